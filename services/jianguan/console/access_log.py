"""The evidence access log (Art. 19 confidentiality): who looked at or exported which evidence,
when. Append-only JSON lines, fsynced, each line carrying the SHA-256 of the previous one, so a
removed or edited line breaks the chain (``verify``)."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Access:
    at: float
    username: str
    role: str
    action: str  # view-case, view-alert, export-case
    target: str
    provider_id: str
    remote: str


class AccessLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._last = self._tail_hash()

    def _tail_hash(self) -> str:
        if not self.path.exists():
            return ""
        last = ""
        with open(self.path, "rb") as f:
            for line in f:
                if line.strip():
                    last = hashlib.sha256(line.rstrip(b"\n")).hexdigest()
        return last

    def append(self, access: Access) -> None:
        with self._lock:
            doc = {
                "at": access.at, "username": access.username, "role": access.role,
                "action": access.action, "target": access.target,
                "provider_id": access.provider_id, "remote": access.remote, "prev": self._last,
            }  # fmt: skip
            line = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            self._last = hashlib.sha256(line).hexdigest()

    def read(self, limit: int = 500) -> list[dict[str, Any]]:
        """The newest ``limit`` entries, newest first."""
        if not self.path.exists():
            return []
        lines = self.path.read_bytes().splitlines()
        return [json.loads(line) for line in reversed(lines[-limit:]) if line.strip()]

    def verify(self) -> int | None:
        """Index of the first entry whose ``prev`` does not match its predecessor, or None."""
        prev = ""
        for i, line in enumerate(self.path.read_bytes().splitlines() if self.path.exists() else []):
            if json.loads(line).get("prev") != prev:
                return i
            prev = hashlib.sha256(line).hexdigest()
        return None
