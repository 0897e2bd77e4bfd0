"""Login sessions and CSRF tokens, in memory (a console restart logs everyone out), and a
throttle on failed logins.

The throttle counts failures per (client address, user name) and per client address: guessing
one account's password from one address stops after ``MAX_FAILURES``, trying many user names
from one address after ``MAX_ADDRESS_FAILURES``, and nobody can lock an account out for the
others by failing on purpose from elsewhere."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field

SESSION_S = 8 * 3600
MAX_FAILURES, MAX_ADDRESS_FAILURES, LOCKOUT_S = 5, 20, 300


@dataclass(slots=True)
class Session:
    username: str
    csrf: str
    expires: float


@dataclass
class Sessions:
    ttl_s: float = SESSION_S
    _by_token: dict[str, Session] = field(default_factory=dict)
    _failures: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def open(self, username: str, now: float) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        session = Session(username, secrets.token_urlsafe(24), now + self.ttl_s)
        self._by_token[token] = session
        return token, session

    def get(self, token: str | None, now: float) -> Session | None:
        if not token:
            return None
        s = self._by_token.get(token)
        if s is None or s.expires < now:
            self._by_token.pop(token or "", None)
            return None
        return s

    def close(self, token: str | None) -> None:
        self._by_token.pop(token or "", None)

    def _recent(self, key: tuple[str, str], now: float) -> int:
        recent = [t for t in self._failures.get(key, ()) if now - t < LOCKOUT_S]
        if recent:
            self._failures[key] = recent
        else:
            self._failures.pop(key, None)
        return len(recent)

    def locked_out(self, address: str, username: str, now: float) -> bool:
        return (
            self._recent((address, username), now) >= MAX_FAILURES
            or self._recent((address, ""), now) >= MAX_ADDRESS_FAILURES
        )

    def failed(self, address: str, username: str, now: float) -> None:
        for key in ((address, username), (address, "")):
            self._failures.setdefault(key, []).append(now)

    def succeeded(self, address: str, username: str) -> None:
        self._failures.pop((address, username), None)


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected, given or "")


def local_redirect(target: str) -> str:
    """``target`` when it is a path on this console, else ``/``. Browsers drop tabs and line
    breaks from a URL and read a backslash as a slash, so "/<tab>/evil.example" or
    "/<backslash>evil.example" would leave the site: any control character, a backslash, or a
    second leading slash is refused."""
    if not target.startswith("/") or target[1:2] in ("/", "\\"):
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in target):
        return "/"
    return target
