"""Numbered SQL migrations (``migrations/NNNN_name.sql``), applied in order, each once.

Applied versions are recorded in ``schema_migrations`` with the file's SHA-256: a migration whose
file changed after it was applied is an error, never silently skipped or re-run. On a ClickHouse
cluster (the executor's ``cluster``) the same files run in their cluster form
(``store.cluster_ddl``), with the same ledger entries.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from jianguan.store.cluster_ddl import ClusterDdl
from jianguan.store.executor import ClickHouseUrl, Executor, ServerExecutor

_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    def statements(self) -> list[str]:
        """Statements split on ';' at the end of a line; '--' comment lines dropped."""
        lines = [ln for ln in self.sql.splitlines() if not ln.lstrip().startswith("--")]
        return [s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.M) if s.strip()]


class MigrationError(RuntimeError):
    pass


def bundled() -> list[Migration]:
    found = []
    for entry in resources.files("jianguan.store").joinpath("migrations").iterdir():
        m = _NAME.fullmatch(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a version: {versions}")
    return found


_LEDGER = """CREATE TABLE IF NOT EXISTS schema_migrations
(version UInt32, name String, checksum String, applied_at DateTime('UTC') DEFAULT now())
ENGINE = MergeTree() ORDER BY version"""


def migrate(executor: Executor, migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply what is missing; return the migrations applied now. Safe to run concurrently with
    readers; run one migrator at a time."""
    ddl = None if executor.cluster is None else ClusterDdl(executor.cluster, executor.database)
    executor.execute(_LEDGER if ddl is None else ddl.translate(_LEDGER, 0)[0])
    applied = {
        int(v): str(c)
        for v, c in executor.execute("SELECT version, checksum FROM schema_migrations")
    }
    done: list[Migration] = []
    for mig in migrations if migrations is not None else bundled():
        statements = mig.statements()
        if ddl is not None:  # translated even when applied: later statements depend on it
            statements = [out for st in statements for out in ddl.translate(st, mig.version)]
        if mig.version in applied:
            if applied[mig.version] != mig.checksum:
                raise MigrationError(
                    f"migration {mig.version:04d}_{mig.name} changed after it was applied;"
                    " add a new migration instead of editing an applied one"
                )
            continue
        for statement in statements:
            executor.execute(statement)
        executor.insert_columns(
            "schema_migrations",
            ("version", "name", "checksum"),
            [[mig.version], [mig.name], [mig.checksum]],
        )
        done.append(mig)
    return done


def migrate_database(url: ClickHouseUrl) -> list[Migration]:
    """Create ``url``'s database (on every server of its cluster) and apply what is missing;
    the migrations applied now."""
    executor = ServerExecutor(url, create_database=True)
    try:
        return migrate(executor)
    finally:
        executor.close()
