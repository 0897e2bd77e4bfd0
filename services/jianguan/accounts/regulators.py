"""Regulator accounts (Art. 16 departments): roles, scopes and scrypt password hashes, kept in a
TOML file (``JIANGUAN_REGULATORS_FILE``) that holds no password in clear.

Roles: ``admin`` (everything, and the evidence access log), ``analyst`` (every provider),
``viewer`` (a department: only the providers listed in its scope, and those registered in its
sectors).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jianguan.accounts.toml_file import render, write_atomically

ROLES = ("admin", "analyst", "viewer")
_N, _R, _P = 2**14, 8, 1


class AccountError(ValueError):
    pass


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(
        password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(got.hex(), digest)


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    name: str
    role: str
    password_hash: str
    providers: frozenset[str] = frozenset()  # a viewer's scope: these providers…
    sectors: frozenset[str] = frozenset()  # …and every provider registered in these sectors
    # The digest of the account's API token (``issue_api_token``), "" for none: reads of the
    # console's /api/ (e.g. a department's Grafana) as this account, its scope and its log.
    api_token_hash: str = ""
    # The authority (an AuthorityIntakeService account id) the account works for: it sees that
    # authority's confidential cases (its inspections, Art. 19 ¶2) and no other's. "": none.
    authority: str = ""

    def sees_all(self) -> bool:
        return self.role in ("admin", "analyst")

    def scope(self, sector_of: Mapping[str, str]) -> frozenset[str] | None:
        """The providers this account may see (None: all), given each provider's sector."""
        if self.sees_all():
            return None
        in_sectors = {p for p, sector in sector_of.items() if sector and sector in self.sectors}
        return self.providers | in_sectors


class Accounts:
    def __init__(self, accounts: list[Account]) -> None:
        self._by_name = {a.username: a for a in accounts}

    def get(self, username: str) -> Account | None:
        return self._by_name.get(username)

    def by_token(self, token: str) -> Account | None:
        """The account whose API token ``token`` is, if any."""
        digest = token_digest(token)
        found = None
        for a in self._by_name.values():
            if a.api_token_hash and hmac.compare_digest(a.api_token_hash, digest):
                found = a
        return found

    @property
    def all(self) -> list[Account]:
        return list(self._by_name.values())

    def with_account(self, account: Account) -> Accounts:
        return Accounts([a for a in self.all if a.username != account.username] + [account])

    @classmethod
    def load(cls, path: Path) -> Accounts:
        if not path.exists():
            return cls([])
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise AccountError(f"cannot read {path}: {exc}") from exc
        out = []
        for i, item in enumerate(data.get("account", [])):
            try:
                role = str(item["role"])
                if role not in ROLES:
                    raise AccountError(f"{path}: account #{i + 1}: unknown role {role!r}")
                out.append(
                    Account(
                        str(item["username"]),
                        str(item.get("name", item["username"])),
                        role,
                        str(item["password_hash"]),
                        frozenset(str(p) for p in item.get("providers", [])),
                        frozenset(str(s) for s in item.get("sectors", [])),
                        str(item.get("api_token_hash", "")),
                        str(item.get("authority", "")),
                    )
                )
            except KeyError as exc:
                raise AccountError(f"{path}: account #{i + 1}: missing {exc}") from exc
        return cls(out)

    def dump(self) -> str:
        accounts = []
        for a in self.all:
            entry: dict[str, object] = {
                "username": a.username,
                "name": a.name,
                "role": a.role,
                "password_hash": a.password_hash,
                "providers": sorted(a.providers),  # sorted, so the file does not churn
                "sectors": sorted(a.sectors),
            }
            if a.api_token_hash:
                entry["api_token_hash"] = a.api_token_hash
            if a.authority:
                entry["authority"] = a.authority
            accounts.append(entry)
        return render(
            "jianguan regulator accounts. Passwords are stored as scrypt hashes only.",
            {"account": accounts} if accounts else {},
        )


def save_accounts(path: Path, accounts: Accounts) -> None:
    write_atomically(path, accounts.dump())


def add_account(
    path: Path,
    username: str,
    role: str,
    providers: list[str],
    name: str,
    sectors: list[str] | None = None,
    authority: str = "",
) -> str:
    """Create or replace an account; returns its new password (shown once)."""
    password = secrets.token_urlsafe(12)
    account = Account(
        username,
        name or username,
        role,
        hash_password(password),
        frozenset(providers),
        frozenset(sectors or ()),
        authority=authority,
    )
    save_accounts(path, Accounts.load(path).with_account(account))
    return password


TOKEN_PREFIX = "jgr_"  # noqa: S105 (marks a regulator API token, is none)


def token_digest(token: str) -> str:
    """What the accounts file keeps of an API token: a SHA-256 digest (the token is 32 random
    bytes, so no salt or stretching is needed to keep it from being guessed back)."""
    return "sha256$" + hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(path: Path, username: str) -> str:
    """A new API token for ``username`` (replacing any it had); returns it (shown once)."""
    accounts = Accounts.load(path)
    account = accounts.get(username)
    if account is None:
        raise AccountError(f"no regulator account {username!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    updated = dataclasses.replace(account, api_token_hash=token_digest(token))
    save_accounts(path, accounts.with_account(updated))
    return token
