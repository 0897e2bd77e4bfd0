"""Writing the project's small TOML files (provider registry, regulator accounts): tomllib reads
them, nothing in the standard library writes them."""

from __future__ import annotations

from collections.abc import Iterable


def quote(s: str) -> str:
    """A TOML basic string."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def string_list(items: Iterable[str]) -> str:
    """A TOML array of basic strings, sorted (so the file does not churn)."""
    return "[" + ", ".join(quote(s) for s in sorted(items)) + "]"
