"""The package's layout holds (docs/architecture.md): each import, lazy ones included, runs from
entrypoints to services to adapters to contracts to the domain, never back."""

from __future__ import annotations

import ast
from pathlib import Path

import jianguan

ROOT = Path(jianguan.__file__).parent

# Each package and the packages it may import (besides itself). Entrypoints (the command line,
# the runtime that starts processes, settings, and every service's main and __main__ module)
# may import anything.
DOMAIN = {"domain"}
CONTRACTS = DOMAIN | {"contracts", "_proto"}
MAY_IMPORT: dict[str, set[str]] = {
    "domain": set(),
    "contracts": {"domain", "_proto"},
    # adapters: who is who, Kafka, ClickHouse
    "accounts": CONTRACTS,
    "kafka_io": CONTRACTS | {"accounts"},
    "store": CONTRACTS | {"kafka_io"},
    # a provider's client library (to be distributed on its own)
    "sdk": CONTRACTS,
    # services
    "ingest": CONTRACTS | {"accounts", "kafka_io"},
    "gateway": CONTRACTS | {"accounts", "kafka_io", "ingest"},
    "processors": CONTRACTS | {"kafka_io", "store", "runtime.loops"},
    "alerting": CONTRACTS | {"kafka_io", "store"},
    "console": CONTRACTS | {"accounts", "store"},
    "simulator": CONTRACTS | {"sdk", "store"},
}
ENTRYPOINTS = {"cli", "runtime", "settings", "metrics", "__init__"}


def _imports(path: Path) -> set[str]:
    """The jianguan modules ``path`` imports, as 'package' or 'package.module'."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "jianguan" and len(parts) > 1:
                found.add(".".join(parts[1:3]))
    return found


def _allowed(package: str, target: str) -> bool:
    top = target.split(".")[0]
    rules = MAY_IMPORT[package]
    return top in (package, "metrics") or top in rules or target in rules


def test_every_import_runs_down_the_layers() -> None:
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        package = rel.parts[0].removesuffix(".py")
        if package in ENTRYPOINTS or package == "_proto" or path.name in ("main.py", "__main__.py"):
            continue
        assert package in MAY_IMPORT, f"{rel}: a package the layout does not place"
        wrong += [f"{rel} imports jianguan.{t}" for t in _imports(path) if not _allowed(package, t)]
    assert wrong == []


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    path = tmp_path / "x.py"
    path.write_text("def f():\n    from jianguan.store.reader import services\n")
    assert _imports(path) == {"store.reader"}
    assert not _allowed("domain", "store.reader")
    assert not _allowed("contracts", "store.reader")
    assert _allowed("processors", "runtime.loops")
    assert not _allowed("processors", "runtime.stack")
