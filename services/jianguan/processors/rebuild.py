"""The rules' state, rebuilt from the event store (the source of truth) when its changelog is
missing or behind.

Each partition of the rules' state keeps a marker in the state itself: the highest offset of
jg.events.v1 (the same partition: both are keyed by provider) whose events it has applied. The
marker is written after the units it covers, in the same changelog partition, so whatever part
of the changelog survives, the marker restored with it never claims more than the units hold.
Before a partition of the rules takes new events, every stored event of its providers after the
marker is applied again: all of them when the marker is missing (a lost changelog, a new state
encoding), none after a clean restart. Applying an event twice changes nothing
(``processors.engine``), so the overlap with what the log then redelivers is harmless.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from jianguan import metrics
from jianguan.contracts import pb
from jianguan.contracts.observed import observed, observed_authority_complaint
from jianguan.domain.events import Observed
from jianguan.store.executor import ClickHouseUrl, ServerExecutor

log = logging.getLogger(__name__)
MARKER = "applied|"


def marker_key(partition: int) -> str:
    return f"{MARKER}{partition}"


def decode_marker(raw: bytes | None) -> dict[int, int]:
    return {int(p): int(o) for p, o in json.loads(raw).items()} if raw else {}


def encode_marker(applied: Mapping[int, int]) -> bytes:
    return json.dumps({str(p): o for p, o in sorted(applied.items())}).encode()


def partition_of(provider_id: str, partitions: int) -> int:
    """The partition a provider-keyed record goes to (the Kafka producers' default
    partitioner), hence the partition of the rules' state holding the provider's units."""
    every = list(range(partitions))
    return int(DefaultPartitioner()(provider_id.encode(), every, every))


def providers_of(ex: ServerExecutor, partition: int, partitions: int) -> list[str]:
    rows = ex.execute(
        "SELECT DISTINCT provider_id FROM events"
        " UNION ALL SELECT DISTINCT provider_id FROM authority_complaints"
    )
    found = {str(p) for (p,) in rows}
    return sorted(p for p in found if partition_of(p, partitions) == partition)


def _after(applied: Mapping[int, int], params: dict[str, object]) -> str:
    """SQL: a stored event the marker does not cover. Without a marker, every event of the
    providers (wherever older keying put them); with one, those of its partitions after it (a
    provider's events all go to its own partition)."""
    if not applied:
        return "1 = 1"
    terms = []
    for i, (p, o) in enumerate(sorted(applied.items())):
        params[f"p{i}"], params[f"o{i}"] = p, o
        terms.append(f"(kafka_partition = %(p{i})s AND kafka_offset > %(o{i})s)")
    return "(" + " OR ".join(terms) + ")"


def count_unapplied(
    ex: ServerExecutor, providers: Sequence[str], kinds: Sequence[int], applied: Mapping[int, int]
) -> int:
    if not providers:
        return 0
    params: dict[str, object] = {"p": tuple(providers), "k": tuple(kinds)}
    sql = "SELECT count() FROM events WHERE provider_id IN %(p)s AND kind IN %(k)s AND " + _after(
        applied, params
    )
    return int(ex.execute(sql, params)[0][0])


def unapplied(
    ex: ServerExecutor,
    providers: Sequence[str],
    kinds: Sequence[int],
    applied: Mapping[int, int],
    chunk: int = 10_000,
) -> Iterator[tuple[list[Observed], dict[int, int]]]:
    """The stored events of ``providers`` the marker does not cover, in chunks, each with the
    highest offset per partition seen so far (the marker once the chunk is applied)."""
    if not providers:
        return
    params: dict[str, object] = {"p": tuple(providers), "k": tuple(kinds)}
    sql = (
        "SELECT provider_id, kafka_partition, kafka_offset, payload FROM events"
        " WHERE provider_id IN %(p)s AND kind IN %(k)s AND "
        + _after(applied, params)
        + " ORDER BY kafka_partition, kafka_offset"
    )
    seen = dict(applied)
    batch: list[Observed] = []
    for provider, partition, offset, payload in ex.iterate_bytes(sql, params):
        seen[int(partition)] = max(seen.get(int(partition), -1), int(offset))
        event = observed(pb.Event.FromString(payload), provider.decode())
        if event is not None:
            batch.append(event)
        if len(batch) >= chunk:
            yield batch, dict(seen)
            batch = []
    yield batch, dict(seen)


def authority_complaints(ex: ServerExecutor, providers: Sequence[str]) -> list[Observed]:
    """Complaints made to the authorities about ``providers`` (few; applied again in full)."""
    if not providers:
        return []
    rows = ex.execute_bytes(
        "SELECT payload FROM authority_complaints WHERE provider_id IN %(p)s",
        {"p": tuple(providers)},
    )
    return [
        observed_authority_complaint(pb.authority_pb2.AuthorityComplaint.FromString(payload))
        for (payload,) in rows
    ]


def caught_up(stored: Mapping[int, int], ends: Mapping[int, int]) -> bool:
    """Has the store written (or set aside) everything the log held? ``ends``: the next offset
    per partition."""
    return all(stored.get(p, -1) + 1 >= end for p, end in ends.items() if end > 0)


def handled_offsets(ex: ServerExecutor, topic: str) -> dict[int, int]:
    """The highest offset per partition of the events topic that the store has written into
    ``events`` or set aside in ``quarantine``."""
    rows = ex.execute(
        "SELECT kafka_partition, max(kafka_offset) FROM events_stored_offsets"
        " GROUP BY kafka_partition UNION ALL SELECT kafka_partition, max(kafka_offset)"
        " FROM quarantine WHERE topic = %(t)s GROUP BY kafka_partition",
        {"t": topic},
    )
    out: dict[int, int] = {}
    for p, o in rows:
        out[int(p)] = max(out.get(int(p), -1), int(o))
    return out


# Applies a chunk of stored events, then records the marker they bring it to.
Apply = Callable[[list[Observed], dict[int, int]], Awaitable[None]]


class Rebuilder:
    """Brings a partition of the rules' state up to the event store before it takes new events:
    waits (at most ``wait_s``) until the store holds what the log held, then applies every stored
    event of the partition's providers after its marker, showing progress in the log and in
    ``jianguan_rules_rebuild_remaining_events``."""

    def __init__(
        self,
        url: ClickHouseUrl,
        bootstrap: str,
        events_topic: str,
        partitions: int,
        kinds: Sequence[int],
        wait_s: float = 60.0,
    ) -> None:
        self.url, self.bootstrap, self.topic = url, bootstrap, events_topic
        self.partitions, self.kinds, self.wait_s = partitions, tuple(kinds), wait_s

    async def rebuild(
        self, partition: int, applied: dict[int, int], apply: Apply
    ) -> dict[int, int]:
        await self._wait_for_store()
        ex = ServerExecutor(self.url)
        try:
            providers = await asyncio.to_thread(providers_of, ex, partition, self.partitions)
            total = await asyncio.to_thread(count_unapplied, ex, providers, self.kinds, applied)
            gauge = metrics.RULES_REBUILD_REMAINING.labels(str(partition))
            gauge.set(total)
            if total:
                log.warning(
                    "rules state partition %d: applying %d stored events of %d providers again"
                    " from the event store (its changelog was %s)",
                    partition, total, len(providers), "behind" if applied else "missing",
                )  # fmt: skip
            seen, done = dict(applied), 0
            chunks = unapplied(ex, providers, self.kinds, applied)
            while (item := await asyncio.to_thread(next, chunks, None)) is not None:
                events, seen = item
                await apply(events, seen)
                done += len(events)
                metrics.RULES_REBUILT.inc(len(events))
                gauge.set(max(0, total - done))
                if events:
                    log.warning(
                        "rules state partition %d: %d of %d applied", partition, done, total
                    )
            if not applied:  # complaints made to the authorities: few, applied again in full
                await apply(await asyncio.to_thread(authority_complaints, ex, providers), seen)
            return seen
        finally:
            ex.close()

    async def _wait_for_store(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap)
        await consumer.start()
        try:
            tps = [TopicPartition(self.topic, p) for p in range(self.partitions)]
            ends = {tp.partition: int(o) for tp, o in (await consumer.end_offsets(tps)).items()}
        finally:
            await consumer.stop()
        deadline = time.monotonic() + self.wait_s
        ex = ServerExecutor(self.url)
        try:
            while True:
                stored = await asyncio.to_thread(handled_offsets, ex, self.topic)
                if caught_up(stored, ends):
                    return
                if time.monotonic() > deadline:
                    log.error(
                        "the event store has not caught up with the log within %.0f s (stored %s,"
                        " log ends %s): rebuilding the rules' state from what it holds",
                        self.wait_s, stored, ends,
                    )  # fmt: skip
                    return
                await asyncio.sleep(0.5)
        finally:
            ex.close()
