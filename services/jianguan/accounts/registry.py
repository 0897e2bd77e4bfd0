"""The provider registry: who may report, with which credential and at what rate.

Stored as TOML. Tokens are never stored, only their SHA-256 (tokens are 256-bit random values, so a
fast hash is enough; there is nothing to brute-force). mTLS clients are identified by the common
name of their certificate.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jianguan.accounts.toml_file import render, write_atomically

_PROVIDER_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,62}[a-z0-9]")
DEFAULT_RATE = 200_000.0
DEFAULT_BURST = 400_000.0


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "jgt_" + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class ProviderPolicy:
    """What admission needs to know about the authenticated caller."""

    provider_id: str
    rate_per_s: float
    burst: float


@dataclass(frozen=True, slots=True)
class Provider:
    id: str
    name: str
    token_sha256: str = ""
    mtls_subject: str = ""
    rate_per_s: float = DEFAULT_RATE
    burst: float = DEFAULT_BURST
    # The field the service works in (e.g. "education", "news", "healthcare"): the departments
    # of Art. 16 supervise by sector, and a console viewer may be scoped to sectors.
    sector: str = ""
    # Publish streams it may hold open at once on one gateway (one per reporting process);
    # 0: the gateway's default (JIANGUAN_GATEWAY_MAX_STREAMS).
    max_streams: int = 0

    @property
    def policy(self) -> ProviderPolicy:
        return ProviderPolicy(self.id, self.rate_per_s, self.burst)


@dataclass(frozen=True, slots=True)
class Authority:
    """A regulator's account (e.g. a CAC department) that records complaints made to it."""

    id: str
    name: str
    token_sha256: str


class RegistryError(ValueError):
    pass


class ProviderRegistry:
    """Lookup by credential. Immutable once built; reload by building a new one."""

    def __init__(self, providers: list[Provider], authorities: Sequence[Authority] = ()) -> None:
        self._authorities: dict[str, Authority] = {}
        self._authority_tokens: dict[str, Authority] = {}
        for a in authorities:
            if not _PROVIDER_ID.fullmatch(a.id) or a.id in self._authorities:
                raise RegistryError(f"authority id {a.id!r} is malformed or listed twice")
            check_text(f"the name of authority {a.id!r}", a.name)
            self._authorities[a.id] = a
            self._authority_tokens[a.token_sha256] = a
        self._by_id: dict[str, Provider] = {}
        self._by_token: dict[str, Provider] = {}
        self._by_subject: dict[str, Provider] = {}
        for p in providers:
            if not _PROVIDER_ID.fullmatch(p.id):
                raise RegistryError(
                    f"provider id {p.id!r}: use 3-64 lowercase letters, digits and dashes"
                )
            if p.id in self._by_id:
                raise RegistryError(f"provider id {p.id!r} is listed twice")
            check_text(f"the name of provider {p.id!r}", p.name)
            check_text(f"the sector of provider {p.id!r}", p.sector, 64)
            if not p.token_sha256 and not p.mtls_subject:
                raise RegistryError(f"provider {p.id!r} has neither a token nor an mTLS subject")
            self._by_id[p.id] = p
            if p.token_sha256:
                self._by_token[p.token_sha256] = p
            if p.mtls_subject:
                self._by_subject[p.mtls_subject] = p

    @property
    def providers(self) -> list[Provider]:
        return list(self._by_id.values())

    def get(self, provider_id: str) -> Provider | None:
        return self._by_id.get(provider_id)

    def by_token(self, token: str) -> Provider | None:
        return self._by_token.get(token_digest(token))

    def by_subject(self, subject: str) -> Provider | None:
        return self._by_subject.get(subject)

    @property
    def authorities(self) -> list[Authority]:
        return list(self._authorities.values())

    def authority_by_token(self, token: str) -> Authority | None:
        """Authority tokens and provider tokens are separate: neither opens the other's door."""
        return self._authority_tokens.get(token_digest(token))

    @classmethod
    def load(cls, path: Path) -> ProviderRegistry:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise RegistryError(f"cannot read provider registry {path}: {exc}") from exc
        for table in ("provider", "authority"):
            if not isinstance(data.get(table, []), list):
                raise RegistryError(f"{path}: {table} must be an array of tables ([[{table}]])")
        providers = []
        for i, item in enumerate(data.get("provider", [])):
            try:
                providers.append(
                    Provider(
                        id=str(item["id"]),
                        name=str(item.get("name", item["id"])),
                        token_sha256=str(item.get("token_sha256", "")),
                        mtls_subject=str(item.get("mtls_subject", "")),
                        rate_per_s=float(item.get("rate_per_s", DEFAULT_RATE)),
                        burst=float(item.get("burst", DEFAULT_BURST)),
                        sector=str(item.get("sector", "")),
                        max_streams=int(item.get("max_streams", 0)),
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise RegistryError(f"{path}: provider #{i + 1}: {exc}") from exc
        authorities = []
        for i, item in enumerate(data.get("authority", [])):
            try:
                authorities.append(
                    Authority(
                        str(item["id"]),
                        str(item.get("name", item["id"])),
                        str(item["token_sha256"]),
                    )
                )
            except (KeyError, TypeError) as exc:
                raise RegistryError(f"{path}: authority #{i + 1}: {exc}") from exc
        return cls(providers, authorities)

    def current(self) -> ProviderRegistry:
        """A registry built once is its own current version (see ``RegistryWatcher``)."""
        return self

    def dump(self) -> str:
        providers = []
        for p in self._by_id.values():
            entry: dict[str, object] = {"id": p.id, "name": p.name}
            if p.token_sha256:
                entry["token_sha256"] = p.token_sha256
            if p.mtls_subject:
                entry["mtls_subject"] = p.mtls_subject
            if p.sector:
                entry["sector"] = p.sector
            if p.max_streams:
                entry["max_streams"] = p.max_streams
            entry |= {"rate_per_s": p.rate_per_s, "burst": p.burst}
            providers.append(entry)
        authorities = [
            {"id": a.id, "name": a.name, "token_sha256": a.token_sha256}
            for a in self._authorities.values()
        ]
        data: dict[str, object] = {}
        if providers:
            data["provider"] = providers
        if authorities:
            data["authority"] = authorities
        return render(
            "jianguan provider registry. Tokens are stored as SHA-256 digests only.", data
        )


def load_registry(path: Path) -> ProviderRegistry:
    """The registry at ``path``; an empty one when there is no file yet."""
    return ProviderRegistry.load(path) if path.exists() else ProviderRegistry([])


def save_registry(path: Path, registry: ProviderRegistry) -> None:
    """Only digests are in the file, but who may report is still nobody else's business. The
    file is replaced atomically: a running gateway re-reading it never sees half of it."""
    write_atomically(path, registry.dump())


def check_text(what: str, value: str, max_len: int = 200) -> None:
    """A name or sector fit for a registry line and a console page: no control characters (a
    newline once broke the registry), at most ``max_len`` characters."""
    if len(value) > max_len:
        raise RegistryError(f"{what} is longer than {max_len} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise RegistryError(f"{what} {value!r} holds a control character (a newline, a tab…)")
