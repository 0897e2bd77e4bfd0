"""Queries the services make of the event store (parameterised, through FINAL where counted)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from jianguan.contracts import pb
from jianguan.domain.chain import ChainLink
from jianguan.store.executor import ClickHouseUrl, Executor, ServerExecutor
from jianguan_sdk.chain import event_hash


def recent_event_ids(executor: Executor, window_s: int, limit: int) -> list[tuple[str, str]]:
    """(provider_id, event_id) of events received in the last ``window_s`` seconds, oldest first,
    at most the ``limit`` newest: what a restarted gateway needs to keep answering DUPLICATE."""
    rows = executor.execute(
        "SELECT provider_id, event_id FROM events"
        " WHERE received_at >= now() - %(window)s"
        " ORDER BY received_at DESC LIMIT %(limit)s",
        {"window": int(window_s), "limit": int(limit)},
    )
    return [(str(p), str(e)) for p, e in reversed(rows)]


def recent_ids_loader(url: ClickHouseUrl) -> Callable[[], list[tuple[str, str]]]:
    """Loads the ids of the last day's events (at most a million) from the store at ``url``:
    what an ingest path's duplicate memory starts from (``ingest.warm_start``)."""

    def load() -> list[tuple[str, str]]:
        with ServerExecutor(url) as ex:
            return recent_event_ids(ex, window_s=86_400, limit=1_000_000)

    return load


def chains(executor: Executor, provider_id: str | None = None) -> list[tuple[str, str, str]]:
    """The (provider_id, service_id, stream_id) chains present in the event store."""
    where = " WHERE provider_id = %(p)s" if provider_id else ""
    rows = executor.execute(
        f"SELECT DISTINCT provider_id, service_id, stream_id FROM events{where}"
        " ORDER BY provider_id, service_id, stream_id",
        {"p": provider_id} if provider_id else None,
    )
    return [(str(p), str(s), str(t)) for p, s, t in rows]


def chain_links(
    executor: ServerExecutor, provider_id: str, service_id: str, stream_id: str = ""
) -> list[ChainLink]:
    """One chain's stored events in sequence order, with the hash of each as stored."""
    rows = executor.execute_bytes(
        "SELECT sequence, event_id, prev_hash, payload FROM events FINAL"
        " WHERE provider_id = %(p)s AND service_id = %(s)s AND stream_id = %(t)s"
        " ORDER BY sequence, event_id",
        {"p": provider_id, "s": service_id, "t": stream_id},
    )
    return [
        ChainLink(
            int(seq),
            event_id.decode(),
            bytes.fromhex(prev.decode()),
            event_hash(pb.Event.FromString(payload)),
        )
        for seq, event_id, prev, payload in rows
    ]


@dataclass(frozen=True, slots=True)
class Quarantined:
    """One row of the quarantine table, without its payload."""

    quarantined_at: datetime
    topic: str
    partition: int
    offset: int
    item: int
    provider_id: str
    event_id: str
    cause: str
    reason: str
    payload_bytes: int


def quarantined(
    executor: Executor, topic: str | None = None, cause: str | None = None, limit: int = 50
) -> list[Quarantined]:
    """What the sinks set aside, newest first (each item once, however often it was written)."""
    where = [cond for cond, value in (("topic = %(t)s", topic), ("cause = %(c)s", cause)) if value]
    rows = executor.execute(
        "SELECT quarantined_at, topic, kafka_partition, kafka_offset, item, provider_id,"
        " event_id, cause, reason, length(payload) FROM quarantine FINAL"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY quarantined_at DESC, topic, kafka_partition, kafka_offset DESC, item"
        " LIMIT %(limit)s",
        {"t": topic, "c": cause, "limit": int(limit)},
    )
    return [
        Quarantined(at, str(t), int(p), int(o), int(i), str(pid), str(e), str(c), str(r), int(n))
        for at, t, p, o, i, pid, e, c, r, n in rows
    ]


def reporters_of(
    executor: Executor, kind: str, providers: Sequence[str], event_ids: Iterable[str]
) -> set[str]:
    """Which of ``providers`` reported an event of body ``kind`` among ``event_ids``."""
    ids = tuple(sorted(event_ids))
    if not ids or not providers:
        return set()
    rows = executor.execute(
        "SELECT DISTINCT provider_id FROM events"
        " WHERE kind = %(kind)s AND provider_id IN %(p)s AND event_id IN %(ids)s",
        {"kind": pb.BODY_KINDS[kind], "p": tuple(providers), "ids": ids},
    )
    return {str(p) for (p,) in rows}


@dataclass(frozen=True, slots=True)
class PlatformCounts:
    """What the demo shows: events stored (each once), cases open, alerts standing."""

    stored: int
    open_cases: int
    alerts: int


def stored_events(executor: Executor) -> int:
    """Events in the event store, each counted once."""
    return int(executor.execute("SELECT count() FROM events FINAL")[0][0])


def platform_counts(executor: Executor) -> PlatformCounts:
    stored = stored_events(executor)
    (open_cases,) = executor.execute("SELECT count() FROM cases WHERE closed = 0")[0]
    (alerts,) = executor.execute("SELECT count() FROM alerts FINAL WHERE retracted = 0")[0]
    return PlatformCounts(int(stored), int(open_cases), int(alerts))


def case_fact_rows(executor: Executor) -> int:
    """Rows of ``case_facts`` as written (every revision of every fact)."""
    return int(executor.execute("SELECT count() FROM case_facts")[0][0])
