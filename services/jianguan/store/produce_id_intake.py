"""Reads of ``produce_id_intake`` (migration 0026): the ProduceIDs the event store took in, by the
second it took them in, for the ProduceID ledger (``processors.produce_id_feed``). Named rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from jianguan.store.executor import Executor


@dataclass(frozen=True, slots=True)
class IntakeRow:
    provider_id: str
    produce_id: str
    event_id: str  # the output naming it


def counts_by_second(executor: Executor, since: int) -> dict[int, int]:
    """Rows taken in per second (epoch) from ``since`` on."""
    rows = executor.execute(
        "SELECT toUInt32(ingested_at), count() FROM produce_id_intake"
        " WHERE ingested_at >= toDateTime(%(since)s) GROUP BY ingested_at",
        {"since": since},
    )
    return {int(second): int(n) for second, n in rows}


def counts_by_minute(executor: Executor, since: int, until: int) -> dict[int, int]:
    """Rows taken in per minute (epoch of its start) from ``since`` to ``until``."""
    rows = executor.execute(
        "SELECT toUInt32(toStartOfMinute(ingested_at)) AS minute, count()"
        " FROM produce_id_intake"
        " WHERE ingested_at >= toDateTime(%(since)s) AND ingested_at < toDateTime(%(until)s)"
        " GROUP BY minute",
        {"since": since, "until": until},
    )
    return {int(minute): int(n) for minute, n in rows}


def taken_in(
    executor: Executor,
    first: int,
    end: int,
    in_force: int,
    seconds: Sequence[int] | None = None,
) -> list[IntakeRow]:
    """The rows taken in from ``first`` to before ``end`` (only in ``seconds``, when given) of
    outputs that occurred since ``in_force``."""
    sql = (
        "SELECT provider_id, produce_id, event_id FROM produce_id_intake"
        " WHERE ingested_at >= toDateTime(%(first)s) AND ingested_at < toDateTime(%(end)s)"
        " AND occurred_at >= toDateTime(%(in_force)s)"
    )
    params: dict[str, object] = {"first": first, "end": end, "in_force": in_force}
    if seconds is not None:
        sql += " AND toUInt32(ingested_at) IN %(seconds)s"
        params["seconds"] = tuple(seconds)
    return [IntakeRow(str(p), str(i), str(e)) for p, i, e in executor.execute(sql, params)]
