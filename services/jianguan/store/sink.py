"""Sinks from the log into ClickHouse: jg.events.v1 → ``events`` (the event store) and
jg.ingest-outcomes.v1 → ``ingest_outcomes``; what a record becomes is the batch type's business.
Each runs on the platform's consumer loop (``kafka_io.consumer_loop``).

At-least-once with idempotent writes: offsets are committed only after ClickHouse accepted the
insert holding every row of the records up to those offsets; a crash between insert and commit
redelivers records whose rows are already there, and the table collapses them (same identity).
An insert that fails because the store is away or busy is retried with backoff and nothing is
committed meanwhile: nothing is dropped.

Poison policy: a record the store can never keep never stops the sink. A record that is not
decodable, not attributed, carries a bad header, or holds a value outside its column is set aside
in the ``quarantine`` table with the reason (before the insert of its batch); an insert the server
refuses for its data is split in halves, in record order, until the refused records are found and
set aside; the rest is stored and the sink carries on (``jianguan_store_quarantined_total``).

The event store goes further: its insert also records the highest offset stored per partition
and provider (``events_stored_offsets_by_provider``, a materialized view, on the rows' shard on a
cluster), and on every assignment the sink learns them before it reads: a re-read record whose
provider has it stored is passed over, so redelivery never writes a raw row twice. On one server
an insert is atomic, so the loop also starts after the highest of them when that is ahead of the
committed offset; on a cluster an insert is atomic per shard only (another provider's rows of the
same insert may be missing), so it starts at the committed offset.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aiokafka import TopicPartition

from jianguan import metrics
from jianguan.contracts import pb, topics
from jianguan.kafka_io.consumer_loop import ConsumerLoop
from jianguan.store import quarantine
from jianguan.store.executor import ClickHouseUrl, SchemaMismatch, ServerExecutor, refuses_data
from jianguan.store.processor import EVENT_TYPES, ColumnBatch, RecordMeta
from jianguan.store.quarantine import SetAside
from jianguan.store.writer import Batch, BatchWriter

log = logging.getLogger(__name__)
T = TypeVar("T")


# A record as read: its value, where it came from, when it was read (seconds).
Read = tuple[bytes | None, RecordMeta, int]
_LAST_RECEIVED_MS = 2**32 * 1000 - 1  # the last millisecond a DateTime column holds


def _header(headers: object, name: str) -> bytes | None:
    for key, value in headers or ():  # type: ignore[attr-defined]
        if key == name:
            return bytes(value)
    return None


def _received_s(header: bytes | None, ingested_s: int) -> int | None:
    """When the platform received the record, from its header (the read time when there is
    none); None when the header is not a plausible number of milliseconds."""
    if header is None:
        return ingested_s
    if not header.isdigit() or len(header) > 16 or int(header) > _LAST_RECEIVED_MS:
        return None
    return int(header) // 1000


# partition → provider → the highest offset of the events topic whose rows ``events`` holds
Held = dict[int, dict[str, int]]


def stored_offsets(url: ClickHouseUrl, partitions: list[int]) -> Held:
    """The highest offset stored in ``events`` per partition of the events topic and provider."""
    ex = ServerExecutor(url)
    try:
        rows = ex.execute(
            "SELECT kafka_partition, provider_id, max(kafka_offset)"
            " FROM events_stored_offsets_by_provider"
            " WHERE kafka_partition IN %(p)s GROUP BY kafka_partition, provider_id",
            {"p": tuple(partitions)},
        )
    finally:
        ex.close()
    held: Held = {}
    for p, provider, o in rows:
        held.setdefault(int(p), {})[str(provider)] = int(o)
    return held


def schema_differences(found: dict[str, str]) -> list[str]:
    """How the events table ``found`` on the server (column → type) differs from the one the
    contract describes (``processor.EVENT_TYPES``), one line per column; empty when equal."""
    out = []
    for column in sorted(set(found) | set(EVENT_TYPES)):
        want, got = EVENT_TYPES.get(column), found.get(column)
        if want is None:
            out.append(f"events.{column}: {got} on the server, not in the contract")
        elif got is None:
            out.append(f"events.{column}: missing on the server, {want} in the contract")
        elif want != got:
            out.append(f"events.{column}: {got} on the server, {want} in the contract")
    return out


def event_store_sink(
    bootstrap: str, topic: str, group: str, url: ClickHouseUrl, **options: Any
) -> StoreSink:
    """The sink from the event log into ``events``, its rows in ClickHouse's native encoding
    when ``url`` names the server's HTTP port (else as values, several times slower).
    Raises SchemaMismatch, naming each column, when the server's table is not the one the
    contract describes (a migration missing or a table changed by hand): nothing is written to
    a table whose columns would take values the contract does not mean."""
    with ServerExecutor(url) as probe:
        differences = schema_differences(probe.column_types("events"))
    if differences:
        raise SchemaMismatch(
            "the events table is not the contract's; run `jianguan migrate`:\n  "
            + "\n  ".join(differences)
        )
    encoded = url.http_port is not None
    if not encoded:
        log.warning("%s names no http_port: events are stored as values, not encoded", url)
    return StoreSink(
        bootstrap,
        topic,
        group,
        lambda: BatchWriter(ServerExecutor(url)),
        functools.partial(ColumnBatch, encoded=encoded),
        held_from=functools.partial(stored_offsets, url),
        atomic_inserts=url.cluster is None,
        **options,
    )


class StoreSink:
    """The strategy of a consumer loop (``kafka_io.consumer_loop``) that batches records into
    one table: ``submit`` takes a record into the batch (or sets it aside), ``poll`` starts the
    insert when the batch is due, and what an insert held becomes committable once ClickHouse
    took it."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        group: str,
        writer_factory: Callable[[], BatchWriter],
        batch_factory: Callable[[], Batch] = ColumnBatch,
        attributed: bool = True,
        who_header: str = topics.HEADER_PROVIDER,
        max_rows: int = 50_000,
        max_wait_s: float = 0.4,
        now: Callable[[], float] = time.time,
        held_from: Callable[[list[int]], Held] | None = None,
        atomic_inserts: bool = True,
    ) -> None:
        """``held_from``: what the table already holds of the given partitions (per provider);
        re-read records it holds are passed over. ``atomic_inserts``: an insert is all or
        nothing (one server, not a cluster), so reading may start after the highest of them."""
        self._topic = topic
        self._writer_factory = writer_factory
        self._writer: BatchWriter | None = None
        self._max_rows = max_rows
        self._max_wait_s = max_wait_s
        self._now = now
        # Records of provider data (events, outcomes) must carry the provider header; records the
        # platform derives (cases, alerts) carry the provider in their payload.
        self._attributed = attributed
        self._who = who_header  # the header naming who wrote the record (provider, authority)
        self._new_batch = batch_factory
        self._table = batch_factory().table
        self._batch = batch_factory()
        self._records: list[Read] = []
        self._offsets: dict[TopicPartition, int] = {}
        self._done: dict[TopicPartition, int] = {}  # stored, not yet committed
        self._first_at = 0.0
        self._lock = asyncio.Lock()
        self._inflight: asyncio.Task[None] | None = None
        self.rows_written = 0
        self.set_aside = 0
        self._lag_at = 0.0
        self._held_from = held_from
        self._atomic_inserts = atomic_inserts
        # partition → (the highest offset held, per provider): replaced whole on every
        # assignment (from the loop's thread), dropped once reading passes the highest
        self._held: dict[int, tuple[int, dict[str, int]]] = {}
        self.passed_over = 0
        # What the sink cannot keep it sets aside itself, and a store that is away is waited
        # for; a record it should ever fail on (a fault of its own) is set aside too, as given
        # up, instead of being sent to the dead letters.
        self.loop = ConsumerLoop(
            f"sink:{topic}", bootstrap, group, [topic], self, self,
            poll_ms=50, max_records=200,
            resume_from=None if held_from is None else self._resume_from,
        )  # fmt: skip

    def _resume_from(self, partitions: list[int]) -> dict[int, int]:
        """What the table holds of newly assigned ``partitions``, kept for ``submit``; where the
        loop may start reading each (runs in a thread before they are read)."""
        assert self._held_from is not None
        held = self._held_from(partitions)
        self._held = {
            **self._held, **{p: (max(by.values()), by) for p, by in held.items() if by},
        }  # fmt: skip
        if not self._atomic_inserts:
            return {}
        return {p: top for p, (top, _) in self._held.items() if p in partitions}

    def _stored_already(self, partition: int, offset: int, who: str) -> bool:
        held = self._held.get(partition)
        if held is None:
            return False
        top, by_provider = held
        if offset > top:
            self._held = {p: h for p, h in self._held.items() if p != partition}
            return False
        return offset <= by_provider.get(who, -1)

    async def start(self) -> None:
        self._writer = await asyncio.to_thread(self._writer_factory)
        await self.loop.start()

    def request_stop(self) -> None:
        self.loop.request_stop()

    async def run(self) -> None:
        """Consume until request_stop(); then flush what was read and commit it.

        One insert is in flight while the next batch is decoded (the insert waits on ClickHouse
        and the socket, decoding needs the CPU); offsets become committable in order, each
        after its own insert.
        """
        try:
            await self.loop.run()
        finally:
            await self._drain()
            if self._writer is not None:
                self._writer.close()

    @property
    def resumed(self) -> bool:
        """Partitions are assigned and each starts after what the store holds."""
        return self.loop.resumed

    # -- the strategy of the consumer loop ---------------------------------------------------

    async def submit(self, rec: Any) -> None:
        if not self._batch:
            self._first_at = time.monotonic()
        ingested = int(self._now())
        tp = TopicPartition(rec.topic, rec.partition)
        offset: int = rec.offset
        value: bytes | None = rec.value
        raw_who = _header(rec.headers, self._who)
        who = "" if raw_who is None else raw_who.decode("utf-8", "replace")
        received = _header(rec.headers, topics.HEADER_RECEIVED_MS)
        received_s = _received_s(received, ingested)
        self._offsets[tp] = offset + 1
        if self._held and self._stored_already(tp.partition, offset, who):
            self.passed_over += 1
            metrics.STORE_PASSED_OVER.labels(self._table).inc()
            return
        if raw_who is None and self._attributed:
            # Only the ingest paths write these topics and always set the header: a record
            # without it cannot be attributed to a provider.
            self._reject(tp, offset, who, quarantine.UNATTRIBUTED, value,
                         f"no {self._who} header: the writer is unknown")  # fmt: skip
        elif received_s is None:
            shown = received[:40] if received is not None else b""
            self._reject(tp, offset, who, quarantine.BAD_HEADER, value,
                         f"{topics.HEADER_RECEIVED_MS} is {shown!r}, not a time in"
                         " milliseconds")  # fmt: skip
        else:
            meta = RecordMeta(who, received_s, tp.partition, offset)
            self._batch.add(value, meta, ingested)
            self._records.append((value, meta, ingested))

    def skip(self, rec: Any) -> None:
        self._offsets[TopicPartition(rec.topic, rec.partition)] = rec.offset + 1

    async def send(self, letter: pb.dead_letters_pb2.DeadLetter) -> None:
        """The loop gave a record up: it is set aside with the rest of the batch's."""
        tp = TopicPartition(letter.topic, letter.partition)
        reason = f"the sink failed on it {letter.attempts} times: {letter.reason}"
        self._reject(tp, letter.offset, "", quarantine.GIVEN_UP, letter.value, reason)

    def committable(self) -> Mapping[TopicPartition, int]:
        done, self._done = self._done, {}
        return done

    async def poll(self) -> None:
        if self._inflight is not None and self._inflight.done():
            await self._inflight  # re-raises nothing: the task retries until it succeeds
            self._inflight = None
        due = bool(self._batch) and (
            len(self._batch) >= self._max_rows
            or time.monotonic() - self._first_at >= self._max_wait_s
        )
        if due or (self._offsets and not self._batch):
            if self._inflight is None:
                self._inflight = asyncio.create_task(self._take_and_store())
            elif len(self._batch) >= 2 * self._max_rows:
                await self._drain()  # backpressure: ClickHouse is slower than Kafka
        await self._update_lag()

    async def flush(self) -> None:
        """Insert everything read so far (retrying until ClickHouse takes it)."""
        await self._drain()
        await self._take_and_store()

    # -- writing ---------------------------------------------------------------------------

    async def _drain(self) -> None:
        if self._inflight is not None:
            await self._inflight
            self._inflight = None

    def _reject(
        self, tp: TopicPartition, offset: int, who: str, cause: str, value: bytes | None,
        reason: str,
    ) -> None:  # fmt: skip
        log.error("record %s@%d set aside: %s", tp, offset, reason)
        self._batch.set_aside.append(
            SetAside(tp.partition, offset, 0, who, "", cause, reason, value or b"")
        )

    async def _take_and_store(self) -> None:
        async with self._lock:
            batch, offsets, records = self._batch, self._offsets, self._records
            self._batch, self._offsets, self._records = self._new_batch(), {}, []
            # Set aside first: a crash before the commit re-reads them (a repeated row, collapsed
            # by its key), never skips them.
            await self._quarantine(batch.set_aside)
            if batch:
                await self._store(batch, records)
            self._done.update(offsets)

    async def _written(
        self, what: str, write: Callable[[BatchWriter], T], gives_up: Callable[[Exception], bool]
    ) -> T:
        """``write`` with the writer, in a thread, retried with backoff (and a new writer) while
        the store is away or busy; an error ``gives_up`` accepts is raised instead."""
        delay = 0.2
        while True:
            assert self._writer is not None
            try:
                return await asyncio.to_thread(write, self._writer)
            except Exception as exc:
                metrics.STORE_INSERT_FAILURES.inc()
                self._writer = await asyncio.to_thread(self._writer_factory)
                if gives_up(exc):
                    raise
                log.warning("%s failed (%s); retrying in %.1fs", what, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _store(self, batch: Batch, records: list[Read]) -> None:
        """Insert ``batch`` (the rows of ``records``), retrying while the store is away; when
        the store refuses the rows themselves, find the records at fault and set them aside."""
        try:
            self.rows_written += await self._written(
                f"insert of {len(batch)} rows", lambda w: w.write(batch), refuses_data
            )
        except Exception as exc:  # only what refuses_data says is the data's fault
            await self._isolate(records, exc)

    async def _isolate(self, records: list[Read], exc: Exception) -> None:
        """Split refused ``records`` in halves, first half first (each insert holds a prefix of
        what is left, as resuming after the highest stored offset requires), down to the single
        records the store refuses, which are set aside."""
        if len(records) == 1:
            value, meta, _ = records[0]
            reason = f"the store refused its rows: {type(exc).__name__}: {exc}"
            log.error("record %d@%d set aside: %s", meta.partition, meta.offset, reason)
            item = SetAside(meta.partition, meta.offset, 0, meta.provider_id, "",
                            quarantine.REFUSED, reason, value or b"")  # fmt: skip
            await self._quarantine([item])
            return
        middle = len(records) // 2
        for half in (records[:middle], records[middle:]):
            batch = self._new_batch()
            for value, meta, ingested in half:
                batch.add(value, meta, ingested)
            # its own set-asides were written with the whole batch
            if batch:
                await self._store(batch, half)

    async def _quarantine(self, items: list[SetAside]) -> None:
        """Write ``items`` to the quarantine table, retrying while the store is away."""
        if not items:
            return
        now = int(self._now())
        await self._written(
            "quarantine insert",
            lambda w: w.quarantine(self._table, self._topic, items, now),
            lambda _: False,
        )
        self.set_aside += len(items)

    async def _update_lag(self) -> None:
        """Lag from the high watermark the last fetch reported (no extra request to the broker)."""
        now = time.monotonic()
        if now - self._lag_at < 1.0:
            return
        self._lag_at = now
        for tp in self.loop.consumer.assignment():
            high = self.loop.consumer.highwater(tp)
            if high is None:
                continue
            position = await self.loop.consumer.position(tp)
            metrics.STORE_LAG.labels(str(tp.partition)).set(max(0, high - position))
