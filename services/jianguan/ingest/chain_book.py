"""Where every chain stands, shared by the ingest processes through the event log.

Each ingest process (a gateway replica, the Kafka inbound validator) keeps the head of every
chain (``domain.chain_heads.Head``, by provider, service and stream) in memory, from the compacted
topic ``jg.chain-heads.v1`` that it reads whole at start and then follows. A process that takes
items into a chain writes the chain's new head there (acks=all) before it answers them.

Contracts:
- ``caught_up()`` returns once this process holds every head record written (and acknowledged)
  before it was called: a chain answered by one process is known to the next process asked about
  it (a reporter that reconnects to another gateway, a reader of ``GetChainHeads``).
- ``hold(provider, chains)`` serialises, in this process, the batches of the same chains from
  judging to recording, so a chain's items are judged against the head the previous batch left.
- A head only moves to a record later in the topic than the one it came from: a process that
  reads an older record after writing a newer one keeps the newer.
- Must be started and stopped inside the running event loop (aiokafka binds to it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from jianguan.contracts import pb, topics
from jianguan.domain.chain_heads import EMPTY, Head
from jianguan.kafka_io.admin import ensure_topics

log = logging.getLogger(__name__)

Chain = tuple[str, str]  # (service_id, stream_id) of one provider
_SEP = "\x1f"


@dataclass(frozen=True, slots=True)
class _Known:
    head: Head
    partition: int
    offset: int  # of the record that set it; -1: not in the topic (yet)
    pending: bool = False  # written by this process, not acknowledged yet


def record_key(provider_id: str, service_id: str, stream_id: str) -> bytes:
    return _SEP.join((provider_id, service_id, stream_id)).encode()


class ChainBook:
    def __init__(self, bootstrap: str, namespace: str = "", writer: str = "") -> None:
        self._bootstrap = bootstrap
        self._topic = topics.topic_name(topics.CHAIN_HEADS, namespace)
        self._writer = writer or f"{socket.gethostname()}:{os.getpid()}"
        self._heads: dict[str, dict[Chain, _Known]] = {}  # by provider
        self._locks: dict[tuple[str, str, str], asyncio.Lock] = {}
        # Records read while this process's own write of the chain was unacknowledged.
        self._held: dict[tuple[str, Chain], tuple[int, int, Head]] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._follower: asyncio.Task[None] | None = None
        self._partitions: list[TopicPartition] = []
        self._read = asyncio.Condition()
        self._started = asyncio.Event()

    @property
    def topic(self) -> str:
        return self._topic

    @property
    def ready(self) -> bool:
        """Started, and following the topic."""
        return self._started.is_set() and self._follower is not None and not self._follower.done()

    async def start_when_possible(self, retry_s: float = 2.0) -> None:
        """``start``, again and again until the broker answers (for a service that serves at
        once and waits for nothing)."""
        while True:
            try:
                await self.start()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("the chain heads cannot be read yet (%s); retrying", exc)
                await asyncio.sleep(retry_s)

    async def start(self) -> None:
        """Create the topic when missing, start following it, and return once every head
        written before is known."""
        await asyncio.to_thread(
            ensure_topics,
            self._bootstrap,
            [self._topic],
            topics.PARTITIONS,
            configs=topics.COMPACTED,
        )
        try:
            self._producer = AIOKafkaProducer(
                bootstrap_servers=self._bootstrap, acks="all", enable_idempotence=True, linger_ms=1
            )
            await self._producer.start()
            self._consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
            )
            await self._consumer.start()
            self._partitions = await self._partitions_of_topic()
            self._consumer.assign(self._partitions)
            await self._consumer.seek_to_beginning(*self._partitions)
            self._follower = asyncio.create_task(self._follow(), name="chain-book")
            await self._read_to_end(time.monotonic() + 30.0)
            self._started.set()
        except BaseException:
            await self.stop()
            raise

    async def _partitions_of_topic(self) -> list[TopicPartition]:
        """The topic's partitions, as the cluster's metadata names them."""
        assert self._producer is not None
        parts = await self._producer.partitions_for(self._topic)
        return [TopicPartition(self._topic, p) for p in sorted(parts)]

    async def stop(self) -> None:
        self._started.clear()
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
            self._follower = None
        for client in (self._consumer, self._producer):
            if client is not None:
                await client.stop()
        self._consumer = self._producer = None

    # -- reading ---------------------------------------------------------------------------------

    async def _follow(self) -> None:
        assert self._consumer is not None
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=200)
            except asyncio.CancelledError:
                raise
            except Exception:  # the broker away: keep following when it returns
                log.exception("reading %s failed; retrying", self._topic)
                await asyncio.sleep(1.0)
                continue
            for tp, records in batches.items():
                for rec in records:
                    self._apply(tp.partition, rec.offset, rec.value)
            async with self._read:
                self._read.notify_all()

    def _apply(self, partition: int, offset: int, value: bytes | None) -> None:
        if value is None:
            return
        try:
            rec = pb.chains_pb2.ChainHeadRecord.FromString(value)
        except Exception:
            log.warning("an unreadable record in %s at %d:%d", self._topic, partition, offset)
            return
        h = rec.head
        chain = (h.service_id, h.stream_id)
        head = Head(h.sequence, h.hash, h.event_id)
        known = self._heads.setdefault(rec.provider_id, {}).get(chain)
        if known is not None and known.pending:
            # decided when this process's own record is acknowledged: the later one wins
            held = self._held.get((rec.provider_id, chain))
            if held is None or held[1] < offset:
                self._held[(rec.provider_id, chain)] = (partition, offset, head)
            return
        if known is not None and known.partition == partition and known.offset >= offset:
            return  # this process wrote a later one (or read this one already)
        self._heads[rec.provider_id][chain] = _Known(head, partition, offset)

    async def caught_up(self, timeout_s: float = 30.0) -> None:
        """Return once every record acknowledged before this call has been read, waiting for
        the book to start (raises ``TimeoutError`` when the topic cannot be read within
        ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        if not self._started.is_set():
            await asyncio.wait_for(self._started.wait(), timeout_s)
        await self._read_to_end(deadline)

    async def _read_to_end(self, deadline: float) -> None:
        consumer = self._consumer
        if consumer is None:
            raise RuntimeError("the chain book is stopped")
        timeout_s = max(0.0, deadline - time.monotonic())
        ends = await asyncio.wait_for(consumer.end_offsets(self._partitions), timeout_s)
        while True:
            behind = [tp for tp in self._partitions if await consumer.position(tp) < ends[tp]]
            if not behind:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self._topic} not read up to its end in time")
            async with self._read:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._read.wait(), min(left, 0.5))

    def head(self, provider_id: str, service_id: str, stream_id: str) -> Head:
        known = self._heads.get(provider_id, {}).get((service_id, stream_id))
        return EMPTY if known is None else known.head

    def heads(self, provider_id: str) -> dict[Chain, Head]:
        """Every chain of ``provider_id`` this process knows, with its head."""
        return {c: k.head for c, k in self._heads.get(provider_id, {}).items()}

    # -- writing ---------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def hold(self, provider_id: str, chains: Iterable[Chain]) -> AsyncIterator[None]:
        """The chains of one batch, held in this process while it is judged and recorded
        (taken in one order, so two batches never wait on each other)."""
        keys = sorted({(provider_id, s, t) for s, t in chains})
        locks = [self._locks.setdefault(k, asyncio.Lock()) for k in keys]
        async with contextlib.AsyncExitStack() as stack:
            for lock in locks:
                await stack.enter_async_context(lock)
            yield

    async def record(self, provider_id: str, heads: Mapping[Chain, Head]) -> bool:
        """Write the new heads of ``provider_id``'s chains and keep them; False when the broker
        did not acknowledge them all (the heads are kept in this process all the same: the
        items they follow are stored)."""
        confirmed = await self.propose(provider_id, heads)
        return await confirmed()

    async def propose(
        self, provider_id: str, heads: Mapping[Chain, Head]
    ) -> Callable[[], Awaitable[bool]]:
        """Keep the new heads now (this process judges the chains' next batch against them)
        and start writing them, in order; the call returned waits until the broker acknowledged
        them (``record``'s answer). A chain's writes reach the topic in the order proposed."""
        producer = self._producer
        if producer is None:
            raise RuntimeError("the chain book is not started")
        now_ns = time.time_ns()
        sends = []
        for (service_id, stream_id), head in heads.items():
            rec = pb.chains_pb2.ChainHeadRecord(
                provider_id=provider_id,
                head=pb.ingest_pb2.ChainHead(
                    service_id=service_id,
                    stream_id=stream_id,
                    sequence=head.sequence,
                    hash=head.hash,
                    event_id=head.event_id,
                ),
                writer=self._writer,
            )
            rec.recorded_at.FromNanoseconds(now_ns)
            key = record_key(provider_id, service_id, stream_id)
            self._heads.setdefault(provider_id, {})[(service_id, stream_id)] = _Known(
                head, -1, -1, pending=True
            )
            value = rec.SerializeToString()
            # enqueued now: one chain's records keep the order of the calls
            fut = await producer.send(self._topic, value=value, key=key)
            sends.append(((service_id, stream_id), head, fut))

        async def confirmed() -> bool:
            ok = True
            for chain, head, fut in sends:
                try:
                    meta = await fut
                except Exception:
                    log.exception("the head of %s/%s@%s was not recorded", provider_id, *chain)
                    ok = False
                    known = _Known(head, -1, -1)  # kept: the items it follows are stored
                else:
                    known = _Known(head, meta.partition, meta.offset)
                chains = self._heads[provider_id]
                current = chains.get(chain)
                if current is not None and current.pending and current.head != head:
                    continue  # a later proposal of this process: its own answer settles it
                held = self._held.pop((provider_id, chain), None)
                if held is not None and held[1] > known.offset:
                    known = _Known(held[2], held[0], held[1])  # another process wrote later
                chains[chain] = known
            return ok

        return confirmed
