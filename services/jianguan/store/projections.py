"""The case projections as a whole: emptied before a rebuild, and read back for comparing a
replay with live processing."""

from __future__ import annotations

from dataclasses import dataclass

from jianguan.store.cluster_ddl import on_cluster, rows_of
from jianguan.store.executor import Executor


@dataclass(frozen=True, slots=True, order=True)
class ComparedFact:
    """What a replay must reproduce of a case fact (its identity, what it says, and when)."""

    fact_id: str
    kind: int
    obligation: str
    at: int
    due: int
    event_id: str
    late: bool
    # a STATUS fact's: obligations met, missed, and when the case closed (0: open)
    met: tuple[str, ...] = ()
    missed: tuple[str, ...] = ()
    closed_at: int = 0

    def __str__(self) -> str:
        status = (
            f" met={list(self.met)} missed={list(self.missed)} closed_at={self.closed_at}"
            if self.met or self.missed or self.closed_at
            else ""
        )
        return (
            f"{self.fact_id} kind={self.kind} obligation={self.obligation!r} at={self.at}"
            f" due={self.due} event_id={self.event_id!r} late={int(self.late)}{status}"
        )


def clear(executor: Executor) -> None:
    """Empty ``case_facts`` (and the heads kept from it) and ``alerts`` (for a rebuild from the
    event store)."""
    for table in ("case_facts", "case_heads", "alerts"):
        executor.execute(f"TRUNCATE TABLE {rows_of(executor, table)}")


def standing_facts(executor: Executor, until_s: float) -> set[ComparedFact]:
    """Every standing case fact dated up to ``until_s``."""
    rows = executor.execute(
        "SELECT fact_id, kind, obligation, toUInt32(at), toUInt32(due), event_id, late,"
        " obligations_met, obligations_missed, toUInt32(closed_at)"
        " FROM case_facts FINAL WHERE retracted = 0 AND at <= toDateTime(%(until)s)",
        {"until": int(until_s)},
    )
    return {
        ComparedFact(
            str(f), int(k), str(o), int(at), int(due), str(e), bool(late),
            tuple(map(str, met)), tuple(map(str, missed)), int(closed),
        )
        for f, k, o, at, due, e, late, met, missed, closed in rows
    }  # fmt: skip


def drop_database(executor: Executor, database: str) -> None:
    """Remove a scratch database (a replay's) and everything in it."""
    executor.execute(f"DROP DATABASE IF EXISTS `{database}`{on_cluster(executor.cluster)}")
