"""The evidence access log (Art. 19 confidentiality): who looked at or exported which evidence,
when. Append-only JSON lines, fsynced, in a keyed chain:

- each line carries ``prev`` (the previous line's MAC) and ``mac``, the HMAC-SHA256 under a key
  kept beside the log, never in it (``<log>.key``, mode 0600), of the line without its ``mac``:
  an entry edited, inserted or removed, even with every hash recomputed, breaks the chain unless
  the key was taken too;
- the head (how many entries, the last MAC) is kept outside the log (``<log>.head``), written
  after every append: a log cut short, or deleted while its key and head remain, shows as broken.

``verify`` names the first entry that fails; a line that is not even JSON is a broken entry,
shown as such, never an error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Access:
    at: float
    username: str
    role: str
    action: str  # view-case, view-alert, export-case, refused
    target: str
    provider_id: str
    remote: str


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def mac_of(key: bytes, doc: dict[str, Any]) -> str:
    """The MAC of an entry: over its canonical JSON without the ``mac`` field (pure)."""
    body = {k: v for k, v in doc.items() if k != "mac"}
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True).encode()
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


def first_break(key: bytes, lines: list[bytes], head: tuple[int, str] | None) -> int | None:
    """Index of the first entry that is not where the chain and the head say it must be, or
    None when the log is intact (pure). ``head``: (entries, last MAC) recorded outside."""
    prev = ""
    for i, line in enumerate(lines):
        try:
            doc = json.loads(line)
        except ValueError:
            return i
        if not isinstance(doc, dict) or doc.get("prev") != prev:
            return i
        if not hmac.compare_digest(str(doc.get("mac", "")), mac_of(key, doc)):
            return i
        prev = doc["mac"]
    if head is not None and (len(lines), prev) != head:
        return min(len(lines), head[0])  # cut short (or replaced): the first missing entry
    return None


class AccessLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._key_path = path.with_name(path.name + ".key")
        self._head_path = path.with_name(path.name + ".head")
        self._lock = threading.Lock()
        if not self._key_path.exists():
            _write_private(self._key_path, secrets.token_hex(32).encode())
        self._key = bytes.fromhex(self._key_path.read_text().strip())
        head = self._head()
        self._count, self._last = head if head is not None else (0, "")

    def _head(self) -> tuple[int, str] | None:
        try:
            count, last = self._head_path.read_text().split()
            return int(count), last
        except FileNotFoundError:
            return None
        except ValueError:
            return (-1, "")  # unreadable: never equal to what the log holds

    def _lines(self) -> list[bytes]:
        if not self.path.exists():
            return []
        return [ln for ln in self.path.read_bytes().splitlines() if ln.strip()]

    def append(self, access: Access) -> None:
        with self._lock:
            doc: dict[str, Any] = {
                "at": access.at, "username": access.username, "role": access.role,
                "action": access.action, "target": access.target,
                "provider_id": access.provider_id, "remote": access.remote, "prev": self._last,
            }  # fmt: skip
            doc["mac"] = mac_of(self._key, doc)
            line = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            self._count, self._last = self._count + 1, doc["mac"]
            _write_private(self._head_path, f"{self._count} {self._last}".encode())

    def read(self, limit: int = 500) -> list[dict[str, Any]]:
        """The newest ``limit`` entries, newest first; a line that is not an entry is shown as
        one that says so."""
        out: list[dict[str, Any]] = []
        for line in reversed(self._lines()[-limit:]):
            try:
                doc = json.loads(line)
                if not isinstance(doc, dict):
                    raise ValueError("not an entry")
            except ValueError:
                shown = line[:80].decode("utf-8", "replace")
                doc = {"at": 0, "username": "?", "role": "?", "action": "(corrupt line)",
                       "target": shown, "provider_id": ""}  # fmt: skip
            out.append(doc)
        return out

    def verify(self) -> int | None:
        """Index of the first entry that is missing, edited or out of the chain, or None."""
        return first_break(self._key, self._lines(), self._head())
