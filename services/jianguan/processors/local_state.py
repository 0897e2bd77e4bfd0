"""The rules' state on local disk (faust's RocksDB store): kept across a restart only after a clean
shutdown.

A worker writes its units to the partition's database before the changelog has them
(``processors.state``), so after a crash the database may hold writes, and a marker, that the
changelog never received, while the facts they announced may never have reached jg.cases.v1.
Such a database must not be trusted: it is removed and faust recovers the partitions from the
changelog, then the rebuild completes them from the event store (``processors.rebuild``), as a
state kept in memory would be. After a clean shutdown (the facts flushed, every write delivered
to the changelog) the database is exactly what the changelog holds, and is kept: a restart reads
only the changelog records written after it.

Contract: ``prepare`` runs before faust opens the table; ``mark_clean`` only once nothing more
will be written to it.
"""

from __future__ import annotations

import glob
import logging
import shutil
from pathlib import Path

log = logging.getLogger(__name__)


def _mark(tabledir: Path, table: str) -> Path:
    return tabledir / f"{table}.clean"


def prepare(tabledir: Path, table: str) -> bool:
    """Keeps the table's local databases if the last shutdown was clean (and withdraws that
    mark: until the next clean shutdown the databases are in use), else removes them. True when
    they were kept."""
    mark = _mark(tabledir, table)
    if mark.exists():
        mark.unlink()
        return True
    removed = [Path(p) for p in glob.glob(str(tabledir / f"{glob.escape(table)}-*.db"))]
    for db in removed:
        shutil.rmtree(db)
    if removed:
        log.warning(
            "rules: the last shutdown was not clean; %d partition(s) of local state removed,"
            " recovered from the changelog and the event store",
            len(removed),
        )
    return False


def mark_clean(tabledir: Path, table: str) -> None:
    """The table's databases hold exactly what its changelog holds."""
    tabledir.mkdir(parents=True, exist_ok=True)
    _mark(tabledir, table).write_text("clean shutdown\n", encoding="utf-8")
