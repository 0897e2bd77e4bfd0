"""Writing the project's small TOML files (the provider registry, regulator accounts) with
tomli-w: every value escaped as TOML wants, the file replaced atomically (a reader never sees
half of it) and readable by its owner only."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

import tomli_w


def render(header: str, data: dict[str, Any]) -> str:
    """``header`` (one or more lines) as TOML comments, then ``data``."""
    comments = "".join(f"# {line}\n" for line in header.splitlines())
    return comments + "\n" + tomli_w.dumps(data)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``: written beside it, then renamed over it, mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
