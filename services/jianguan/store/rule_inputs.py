"""What the rules read back from the event store: the stored events and the authorities' records
(complaints, demands) they apply again when their state is rebuilt or replayed, and how far the
store holds the log. Rows as stored (the payload is the event as accepted); decoding is the
caller's."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from jianguan.store.executor import ServerExecutor


@dataclass(frozen=True, slots=True)
class Missing:
    """The stored events a partition of the rules' state lacks: those of its own partition of
    the log after the marker (``after``) and before the first offset the log will deliver to it
    (``before``; None when the log was lost and starts afresh: all of them), and, when the state
    has no marker at all, every stored event of its providers elsewhere (older keying)."""

    partition: int
    after: int
    before: int | None
    elsewhere: bool

    def where(self, params: dict[str, object]) -> str:
        params["mp"], params["ma"] = self.partition, self.after
        own = "kafka_partition = %(mp)s AND kafka_offset > %(ma)s"
        if self.before is not None:
            params["mb"] = self.before
            own += " AND kafka_offset < %(mb)s"
        return f"(({own}) OR kafka_partition != %(mp)s)" if self.elsewhere else f"({own})"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    provider_id: str
    partition: int
    offset: int
    payload: bytes


def providers_seen(ex: ServerExecutor) -> set[str]:
    """Every provider with a stored event, a complaint made to an authority about it, or an
    authority's demand of it."""
    rows = ex.execute(
        "SELECT DISTINCT provider_id FROM events"
        " UNION ALL SELECT DISTINCT provider_id FROM authority_complaints"
        " UNION ALL SELECT DISTINCT provider_id FROM authority_actions"
    )
    return {str(p) for (p,) in rows}


def count_missing(
    ex: ServerExecutor, providers: Sequence[str], kinds: Sequence[int], missing: Missing
) -> int:
    if not providers:
        return 0
    params: dict[str, object] = {"p": tuple(providers), "k": tuple(kinds)}
    where = missing.where(params)
    sql = f"SELECT count() FROM events WHERE provider_id IN %(p)s AND kind IN %(k)s AND {where}"
    return int(ex.execute(sql, params)[0][0])


def missing_events(
    ex: ServerExecutor, providers: Sequence[str], kinds: Sequence[int], missing: Missing
) -> Iterator[StoredEvent]:
    """The missing events of ``kinds`` of ``providers``, in log order, streamed."""
    if not providers:
        return
    params: dict[str, object] = {"p": tuple(providers), "k": tuple(kinds)}
    sql = (
        "SELECT provider_id, kafka_partition, kafka_offset, payload FROM events"
        f" WHERE provider_id IN %(p)s AND kind IN %(k)s AND {missing.where(params)}"
        " ORDER BY kafka_partition, kafka_offset"
    )
    for provider, partition, offset, payload in ex.iterate_bytes(sql, params):
        yield StoredEvent(provider.decode(), int(partition), int(offset), payload)


def events_of_kinds(ex: ServerExecutor, kinds: Iterable[int]) -> list[tuple[str, bytes]]:
    """(provider id, payload) of every stored event of ``kinds``, each once, in time order."""
    rows = ex.execute_bytes(
        "SELECT provider_id, payload FROM events FINAL WHERE kind IN %(kinds)s"
        " ORDER BY occurred_at, occurred_nanos, event_id",
        {"kinds": tuple(sorted(kinds))},
    )
    return [(provider.decode(), payload) for provider, payload in rows]


def authority_records(
    ex: ServerExecutor, table: str, providers: Sequence[str] | None = None
) -> list[tuple[str, bytes]]:
    """(authority id, payload as recorded) of every row of one of the authorities' tables
    (``authority_complaints``: jianguan.v1.AuthorityComplaint; ``authority_actions``: every
    revision of a demand, jianguan.v1.AuthorityAction) about ``providers`` (None: anyone),
    each once."""
    if providers is not None and not providers:
        return []
    sql, params = f"SELECT authority_id, payload FROM {table} FINAL", {}
    if providers is not None:
        sql, params = sql + " WHERE provider_id IN %(p)s", {"p": tuple(providers)}
    return [(authority.decode(), payload) for authority, payload in ex.execute_bytes(sql, params)]


def handled_offsets(ex: ServerExecutor, topic: str) -> dict[int, int]:
    """The highest offset per partition of the events topic that the store has written into
    ``events`` or set aside in ``quarantine``."""
    rows = ex.execute(
        "SELECT kafka_partition, max(kafka_offset) FROM events_stored_offsets_by_provider"
        " GROUP BY kafka_partition UNION ALL SELECT kafka_partition, max(kafka_offset)"
        " FROM quarantine WHERE topic = %(t)s GROUP BY kafka_partition",
        {"t": topic},
    )
    out: dict[int, int] = {}
    for p, o in rows:
        out[int(p)] = max(out.get(int(p), -1), int(o))
    return out
