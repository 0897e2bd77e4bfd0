"""The rules' state: a faust Table whose writes reach its changelog in batches, off the
record path.

faust sends every table write to the changelog as a message of its own through its producer
buffer: a future, a pending-message object and several task switches each. The rules write about
one unit per ten events, all those of an input record at once, and that per-message path was
about half of their time. ``RuleState`` writes the table's store directly and keeps the writes
of the record; ``flush`` hands them to a writer task, which appends them in write order to
record batches for the table's changelog partition and gives each to a producer of its own. The
record path never waits for the broker: aiokafka takes one batch per partition at a time, and a
record waiting for the previous one's batch capped the rules near 50,000 events/s (measured);
what is handed over meanwhile goes out in the next batches, record after record (never merged
across records: a key's later write moved past a marker would leave the marker claiming a write
the changelog lacks). Each write is still one
changelog record under its own key (compaction and faust's recovery read them as faust's own);
faust still owns the table: its changelog topic and recovery on assignment.

Contract: the host sets ``partition`` before the writes of an input record and calls ``flush``
before taking the next one, so a partition's writes reach the changelog in the order they were
made (each key's last write; the unit writes before the partition's marker). A crash before a
batch is acknowledged loses at most writes after the marker the changelog holds, which the
rebuild completes from the event store (``processors.rebuild``).

Where the table lives on disk (faust's RocksDB store, the default: memory stays flat however many
units the history holds), reads and writes go to the RocksDB database of the record's partition,
and ``keys_between`` reads a range of keys in order. That database outlives the process, and may
be ahead of the changelog after a crash; ``processors.local_state`` keeps it only after a clean
shutdown (``close`` then records how far the changelog holds it, so recovery reads only what
other workers wrote since). Its writes skip RocksDB's write-ahead log (a quarter of the rules'
time per write, measured): a database is kept only after a clean shutdown, and ``close`` flushes
its memtables to disk before the shutdown is marked clean; a partition faust revokes is flushed
when RocksDB closes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import ItemsView, Iterator, MutableMapping
from typing import Any

import rocksdict
from aiokafka import AIOKafkaProducer
from faust.types import TP

from jianguan.kafka_io.clients import batch_producer

log = logging.getLogger(__name__)
# Writes handed over but not yet sent beyond which ``flush`` waits for the writer: a bound on
# memory when the broker is slow, far above what a record writes.
MAX_IN_FLIGHT = 100_000


class RuleState(MutableMapping[str, bytes]):
    """A faust Table with str keys over bytes values, as the MutableMapping the engine expects;
    reads and writes go to the table's store, writes are also kept for ``flush``."""

    def __init__(self, table: Any, bootstrap: str) -> None:
        self._table = table
        _unlogged(self._store)
        self._bootstrap = bootstrap
        self.partition = -1
        self._pending: dict[int, dict[bytes, bytes | None]] = {}
        # Each flush's writes, oldest first, until the writer task sends them.
        self._handed: deque[dict[int, dict[bytes, bytes | None]]] = deque()
        self.in_flight = 0  # writes handed over that the writer has not sent yet
        self._writer: asyncio.Task[None] | None = None
        self._producer: AIOKafkaProducer | None = None
        # Per partition of the changelog: the offset of the last write delivered to it; and how
        # many batches of writes were not delivered (the changelog lacks what they carried).
        self.written_to: dict[int, int] = {}
        self.lost = 0

    @property
    def _store(self) -> Any:
        return self._table.data

    def _target(self) -> Any:
        """Where the current partition's keys live: its RocksDB database (faust opens one per
        partition; its public mapping finds the partition from faust's current event, which a
        rebuild or a timer does not have), or the whole store in memory."""
        if self.partition < 0:
            raise RuntimeError("rule state used outside an input record's partition")
        of_partition = getattr(self._store, "_db_for_partition", None)
        return self._store if of_partition is None else of_partition(self.partition)

    def __getitem__(self, key: str) -> bytes:
        v = self.get(key)
        if v is None:
            raise KeyError(key)
        return v

    def get(self, key: str, default: bytes | None = None) -> bytes | None:  # type: ignore[override]
        """The value, or ``default``: a miss costs a lookup, not a raised KeyError (the engine
        asks for keys that mostly do not exist, such as an event's withdrawal)."""
        v = self._target().get(key.encode())
        return default if v is None else bytes(v)

    def __setitem__(self, key: str, value: bytes) -> None:
        k = key.encode()
        self._target()[k] = value
        self._written(k, value)

    def __delitem__(self, key: str) -> None:
        k = key.encode()
        del self._target()[k]
        self._written(k, None)  # a tombstone

    def keys_between(self, low: str, high: str) -> Iterator[str]:
        """The current partition's keys from ``low`` (included) to ``high`` (excluded), in
        order: a range read of its RocksDB database (a sorted scan of a store in memory)."""
        target = self._target()
        if not hasattr(target, "iter"):
            return iter(sorted(k for k in (k.decode() for k in target) if low <= k < high))
        return key_range(target, low.encode(), high.encode())

    def _written(self, key: bytes, value: bytes | None) -> None:
        writes = self._pending.setdefault(self.partition, {})
        writes.pop(key, None)  # only a key's last write goes out, where it was made
        writes[key] = value

    def __iter__(self) -> Iterator[str]:
        return (k.decode() for k in self._store)

    def items(self) -> ItemsView[str, bytes]:
        """One pass over the store, streamed (the indexes read it all; it may not fit in
        memory), not a lookup per key. Nothing may write while it is read."""
        return _Items(self)

    def __len__(self) -> int:
        return len(self._store)

    @property
    def pending(self) -> int:
        """Writes not yet handed to the changelog."""
        return sum(map(len, self._pending.values()))

    async def flush(self) -> None:
        """Hands the writes kept so far to the changelog writer and returns (it waits only when
        ``MAX_IN_FLIGHT`` writes are already waiting to be sent). The writer sends them in the
        order they were made, one batch per partition (more when they exceed a batch), with
        what was handed over while it was sending: a record never waits for the broker to take
        the previous record's batch (aiokafka takes one batch per partition at a time)."""
        if self._pending:
            self._handed.append(self._pending)
            self.in_flight += self.pending
            self._pending = {}
            self._wake()
        while self.in_flight > MAX_IN_FLIGHT:
            await asyncio.wait({self._wake()}, timeout=1.0)

    def _wake(self) -> asyncio.Task[None]:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="rule-state-changelog")
        return self._writer

    async def _write(self) -> None:
        try:
            producer = await self._started()
        except Exception as exc:  # no broker: the writes wait for the next flush
            log.error("rules: the changelog producer did not start: %s", exc)
            await asyncio.sleep(1.0)
            return
        topic = self._table.changelog_topic.get_topic_name()
        while self._handed:
            # Everything handed over so far, per partition, record after record.
            queued: dict[int, list[tuple[bytes, bytes | None]]] = {}
            while self._handed:
                for partition, writes in self._handed.popleft().items():
                    queued.setdefault(partition, []).extend(writes.items())
                    self.in_flight -= len(writes)
            for partition, in_order in queued.items():
                try:
                    await self._send_all(producer, topic, partition, in_order)
                except Exception as exc:  # the broker unreachable for the producer's timeout
                    log.error("rules: changelog writes of partition %d lost: %s", partition, exc)

    async def _send_all(
        self,
        producer: AIOKafkaProducer,
        topic: str,
        partition: int,
        writes: list[tuple[bytes, bytes | None]],
    ) -> None:
        batch = producer.create_batch()
        for key, value in writes:
            if batch.append(key=key, value=value, timestamp=None) is None:
                await self._send(producer, batch, topic, partition)
                batch = producer.create_batch()
                if batch.append(key=key, value=value, timestamp=None) is None:
                    raise ValueError(f"rule state {key!r} is larger than a batch")
        await self._send(producer, batch, topic, partition)

    async def _send(self, producer: AIOKafkaProducer, batch: Any, topic: str, part: int) -> None:
        count = batch.record_count()
        delivered = await producer.send_batch(batch, topic, partition=part)
        delivered.add_done_callback(lambda d: self._delivered(d, part, count))

    def _delivered(self, delivered: asyncio.Future[Any], partition: int, count: int) -> None:
        if delivered.cancelled() or delivered.exception() is not None:
            self.lost += 1
            # The state in memory is unaffected; a restart completes the changelog from the
            # event store (the partition's marker is behind what was applied).
            why = "cancelled" if delivered.cancelled() else delivered.exception()
            log.error("rules: a changelog batch was not delivered: %s", why)
            return
        last = delivered.result().offset + count - 1
        self.written_to[partition] = max(last, self.written_to.get(partition, -1))

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = batch_producer(self._bootstrap)
            await producer.start()
            self._producer = producer
        return self._producer

    async def close(self) -> bool:
        """Sends what was handed over (and waits for the broker to take it), stops the
        producer and records in a store on disk how far the changelog holds it. True when the
        changelog holds every write (nothing pending, nothing lost)."""
        await self.flush()
        for _ in range(10):  # a broker that stays away does not hold the shutdown
            if not self._handed:
                break
            await self._wake()
        if self._producer is not None:
            await self._producer.flush()
            await self._producer.stop()
            self._producer = None
        complete = not self._handed and not self.pending and not self.lost
        if complete:
            topic = self._table.changelog_topic.get_topic_name()
            for partition, offset in sorted(self.written_to.items()):
                # faust's recovery then starts after it (a no-op for a store in memory)
                self._store.set_persisted_offset(TP(topic, partition), offset)
            for db in getattr(self._store, "_dbs", {}).values():
                db.flush()  # written without a log: on disk before the shutdown counts as clean
        return complete


def _unlogged(store: Any) -> None:
    """The store's RocksDB databases (rocksdict) opened to write without a write-ahead log."""
    options = getattr(store, "rocksdb_options", None)
    if options is None or not getattr(store, "use_rocksdict", False):
        return  # a store in memory
    opened = options.open

    def open_unlogged(path: Any, *, read_only: bool = False) -> Any:
        db = opened(path, read_only=read_only)
        writes = rocksdict.WriteOptions()
        writes.disable_wal = True  # type: ignore[assignment,method-assign]  # a property (the stub: a method)
        db.set_write_options(writes)
        return db

    options.open = open_unlogged


class _Items(ItemsView[str, bytes]):
    _mapping: RuleState

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        for k, v in self._mapping._store.items():
            yield k.decode(), bytes(v)


def key_range(db: Any, low: bytes, high: bytes) -> Iterator[str]:
    """The keys of a RocksDB database (rocksdict) from ``low`` (included) to ``high``
    (excluded), in order."""
    it = db.iter()
    it.seek(low)
    while it.valid():
        key = bytes(it.key())
        if key >= high:
            return
        yield key.decode()
        it.next()
