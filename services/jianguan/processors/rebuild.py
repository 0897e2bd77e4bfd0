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
from collections.abc import Awaitable, Callable, Iterator, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from jianguan import metrics
from jianguan.contracts import pb
from jianguan.contracts.observed import AuthorityRecord, observed, observed_authority_record
from jianguan.domain.events import Observed
from jianguan.store import rule_inputs as inputs
from jianguan.store.executor import ClickHouseUrl, ServerExecutor

log = logging.getLogger(__name__)
MARKER = "applied|"


def marker_key(partition: int) -> str:
    return f"{MARKER}{partition}"


def decode_marker(raw: bytes | None) -> int | None:
    """The last offset of its partition of jg.events.v1 a state partition has applied."""
    return int(json.loads(raw)["applied"]) if raw else None


def encode_marker(offset: int) -> bytes:
    return json.dumps({"applied": offset}).encode()


def partition_of(provider_id: str, partitions: int) -> int:
    """The partition a provider-keyed record goes to (the Kafka producers' default
    partitioner), hence the partition of the rules' state holding the provider's units."""
    every = list(range(partitions))
    return int(DefaultPartitioner()(provider_id.encode(), every, every))


def providers_of(ex: ServerExecutor, partition: int, partitions: int) -> list[str]:
    found = inputs.providers_seen(ex)
    return sorted(p for p in found if partition_of(p, partitions) == partition)


def stored_missing(
    ex: ServerExecutor,
    providers: Sequence[str],
    kinds: Sequence[int],
    missing: inputs.Missing,
    chunk: int = 10_000,
) -> Iterator[tuple[list[Observed], int]]:
    """The missing events, in chunks, each with the highest offset of the state's own partition
    seen so far (its marker once the chunk is applied)."""
    if not providers:
        return
    marker = missing.after
    batch: list[Observed] = []
    for stored in inputs.missing_events(ex, providers, kinds, missing):
        if stored.partition == missing.partition:
            marker = max(marker, stored.offset)
        event = observed(pb.Event.FromString(stored.payload), stored.provider_id)
        if event is not None:
            batch.append(event)
        if len(batch) >= chunk:
            yield batch, marker
            batch = []
    yield batch, marker


def authority_records(ex: ServerExecutor, providers: Sequence[str] | None = None) -> list[Observed]:
    """What the authorities recorded (about ``providers``; None: about anyone), each once:
    complaints made to them and their demands, every revision. They are few: the rules apply
    them again in full."""
    out = []
    for table, message in AUTHORITY_RECORDS.items():
        for authority, payload in inputs.authority_records(ex, table, providers):
            seen = observed_authority_record(message.FromString(payload), authority)
            if seen is not None:
                out.append(seen)
    return out


# The authorities' tables the rules read back, and the message each row's payload is.
AUTHORITY_RECORDS: dict[str, type[AuthorityRecord]] = {
    "authority_complaints": pb.authority_pb2.AuthorityComplaint,
    "authority_actions": pb.authority_pb2.AuthorityAction,
}


# Applies a chunk of stored events, then records the marker they bring the partition to.
Apply = Callable[[list[Observed], int], Awaitable[None]]


class Rebuilder:
    """Brings a partition of the rules' state up to the event store before it takes new events:
    waits (at most ``wait_s``) until the store holds what the log delivered before, then applies
    every stored event of the partition's providers that the state lacks and the log will not
    deliver again, showing progress in the log and in ``jianguan_rules_rebuild_remaining_events``.
    """

    def __init__(
        self,
        url: ClickHouseUrl,
        bootstrap: str,
        group: str,
        events_topic: str,
        partitions: int,
        kinds: Sequence[int],
        wait_s: float = 60.0,
    ) -> None:
        self.url, self.bootstrap, self.group, self.topic = url, bootstrap, group, events_topic
        self.partitions, self.kinds, self.wait_s = partitions, tuple(kinds), wait_s

    async def rebuild(self, partition: int, marker: int | None, first: int, apply: Apply) -> int:
        """``marker``: the last offset the state holds (None: it holds nothing it can vouch
        for); ``first``: the offset the log delivers to it next. Returns the new marker."""
        ex = ServerExecutor(self.url)
        try:
            stored = await self._wait_for_store(ex, partition, first)
            # The store holding an offset the log never had (read after it, the log's end is
            # past every offset the log wrote): the log was lost and started afresh, so nothing
            # the store holds will come again.
            restarted = stored >= await self._log_end(partition)
            missing = inputs.Missing(
                partition,
                marker if marker is not None else -1,
                None if restarted else first,
                marker is None,
            )
            providers = await asyncio.to_thread(providers_of, ex, partition, self.partitions)
            total = await asyncio.to_thread(
                inputs.count_missing, ex, providers, self.kinds, missing
            )
            gauge = metrics.RULES_REBUILD_REMAINING.labels(str(partition))
            gauge.set(total)
            if total:
                log.warning(
                    "rules state partition %d: applying %d stored events of %d providers again"
                    " from the event store (its changelog was %s)",
                    partition, total, len(providers), "behind" if marker is not None else "missing",
                )  # fmt: skip
            done, last = 0, missing.after
            chunks = stored_missing(ex, providers, self.kinds, missing)
            while (item := await asyncio.to_thread(next, chunks, None)) is not None:
                events, last = item
                await apply(events, last)
                done += len(events)
                metrics.RULES_REBUILT.inc(len(events))
                gauge.set(max(0, total - done))
                if events:
                    log.warning(
                        "rules state partition %d: %d of %d applied", partition, done, total
                    )
            if marker is None:  # the authorities' records: few, applied again in full
                await apply(await asyncio.to_thread(authority_records, ex, providers), last)
            return last
        finally:
            ex.close()

    async def _log_end(self, partition: int) -> int:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap)
        await consumer.start()
        try:
            tp = TopicPartition(self.topic, partition)
            return int((await consumer.end_offsets([tp]))[tp])
        finally:
            await consumer.stop()

    async def resume_offset(self, partition: int) -> int:
        """The offset the rules' consumer group resumes the partition at: its committed offset,
        or the log's start when it has none. Reads the group's offsets without joining it."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            tp = TopicPartition(self.topic, partition)
            committed = await consumer.committed(tp)
            if committed is not None:
                return int(committed)
            return int((await consumer.beginning_offsets([tp]))[tp])
        finally:
            await consumer.stop()

    async def _wait_for_store(self, ex: ServerExecutor, partition: int, first: int) -> int:
        """Waits until the store has written (or set aside) every record before ``first``;
        returns the highest offset of the partition it has."""
        deadline = time.monotonic() + self.wait_s
        while True:
            stored = (await asyncio.to_thread(inputs.handled_offsets, ex, self.topic)).get(
                partition, -1
            )
            if stored + 1 >= first:
                return stored
            if time.monotonic() > deadline:
                log.error(
                    "the event store has not caught up with partition %d of the log within"
                    " %.0f s (stored up to %d, the rules resume at %d): rebuilding the rules'"
                    " state from what it holds",
                    partition, self.wait_s, stored, first,
                )  # fmt: skip
                return stored
            await asyncio.sleep(0.5)
