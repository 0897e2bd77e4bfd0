"""The loop of the platform's Kafka consumers that are not faust agents: read, hand each record to
a strategy, commit what the strategy has finished, and never retry a record forever.

Contract:
- Records of one partition reach the strategy in order; partitions are handled side by side.
- Offsets are committed only up to what the strategy reports finished (its writes acknowledged),
  so a crash re-reads exactly the unfinished records (at-least-once; the strategies' writes are
  idempotent).
- When partitions are revoked, and on stop, the strategy finishes what it took and that is
  committed first.
- With ``resume_from`` (where the output itself records how far it holds each partition, as the
  event store does), a newly assigned partition stays paused until it answers, and starts after
  what the output holds when that is past the committed offset: redelivery writes nothing twice.
- Poison policy: a record the strategy fails on is tried again with backoff (a broker or store
  that is away is the strategy's own business: it waits for them inside ``submit``), and after
  ``attempts`` failures it is given up: sent to jg.dead-letters.v1 as it was read, with where it
  came from and the last error (the store keeps it in its quarantine table), counted, logged,
  and the strategy told to treat it as finished. One record never stops a consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from jianguan import metrics
from jianguan.contracts import pb
from jianguan.kafka_io.clients import committing_consumer
from jianguan.kafka_io.producer import EventLogProducer

log = logging.getLogger(__name__)
MAX_REASON_CHARS = 2000


class Poison(Exception):
    """Raised by a strategy for a record that can never be processed (not the message its topic
    carries, say): the loop gives it up at once instead of trying again."""


class Strategy(Protocol):
    """What a consumer does with its records."""

    async def submit(self, record: Any) -> None:
        """Take one record (an aiokafka ConsumerRecord); raises when it cannot be processed."""

    def skip(self, record: Any) -> None:
        """The loop gave ``record`` up (it is a dead letter now): count it as finished."""

    def committable(self) -> Mapping[TopicPartition, int]:
        """Per partition, the offset to commit (the next to read) up to which every record
        taken has finished; what was returned once need not be returned again."""

    async def flush(self) -> None:
        """Finish what was taken (partitions revoked, or stopping)."""

    async def poll(self) -> None:
        """Work due between reads (a batch to write, say); called after every read."""


class DeadLetters(Protocol):
    async def send(self, letter: pb.dead_letters_pb2.DeadLetter) -> None:
        """Returns once the dead letter is durably in its topic."""


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, loop: ConsumerLoop) -> None:
        self._loop = loop

    async def on_partitions_revoked(self, revoked: object) -> None:
        await self._loop.finish()

    async def on_partitions_assigned(self, assigned: object) -> None:
        self._loop.assigned(list(assigned))  # type: ignore[call-overload]


class ConsumerLoop:
    def __init__(
        self,
        name: str,
        bootstrap: str,
        group: str,
        topics: list[str],
        strategy: Strategy,
        dead_letters: DeadLetters,
        who: Callable[[Any], str] = lambda record: "",
        poll_ms: int = 100,
        max_records: int = 200,
        attempts: int = 5,
        base_delay_s: float = 0.5,
        resume_from: Callable[[list[int]], Mapping[int, int]] | None = None,
    ) -> None:
        self.name = name
        self._bootstrap = bootstrap
        self._group = group
        self._topics = topics
        self._strategy = strategy
        self._dead_letters = dead_letters
        self._who = who  # the provider that wrote a record, when the consumer knows
        self._poll_ms = poll_ms
        self._max_records = max_records
        self._attempts = attempts
        self._base_delay_s = base_delay_s
        self._consumer: AIOKafkaConsumer = None
        self._stopping = asyncio.Event()
        self.given_up = 0
        # Newly assigned partitions stay paused until ``resume_from`` said how far the output
        # holds them (partition numbers of the one topic read → the last offset held).
        self._resume_from = resume_from
        self._unresolved: set[TopicPartition] = set()
        self._resolve_at = 0.0
        self._assignments = 0

    @property
    def consumer(self) -> AIOKafkaConsumer:
        return self._consumer

    @property
    def resumed(self) -> bool:
        """Partitions are assigned and each starts after what the output holds."""
        return bool(self._consumer.assignment()) and not self._unresolved

    async def start(self) -> None:
        # Created here: aiokafka clients bind to the running event loop.
        self._consumer = committing_consumer(self._bootstrap, self._group)
        await self._consumer.start()
        if self._topics:
            self._follow_topics()

    def subscribe(self, topics: list[str]) -> None:
        """Read these topics from now on (e.g. a provider registered or revoked while running):
        the group rebalances onto them."""
        if sorted(topics) == sorted(self._topics):
            return
        self._topics = list(topics)
        if self._consumer is not None:  # else start() subscribes
            self._follow_topics()

    def _follow_topics(self) -> None:
        if self._topics:
            self._consumer.subscribe(self._topics, listener=_Rebalance(self))
        else:
            self._consumer.unsubscribe()

    def request_stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Consume until ``request_stop``; then finish what was taken and commit it."""
        try:
            while not self._stopping.is_set():
                if not self._topics:  # nothing to read, until ``subscribe`` gives topics
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), self._poll_ms / 1000)
                    await self._strategy.poll()
                    continue
                fetched = await self._consumer.getmany(
                    timeout_ms=self._poll_ms, max_records=self._max_records
                )
                if fetched:
                    await asyncio.gather(*(self._in_order(rs) for rs in fetched.values()))
                await self._strategy.poll()
                await self._resolve()
                await self._commit()
            await self.finish()
        finally:
            await self._consumer.stop()

    async def finish(self) -> None:
        """The strategy finishes what it took; that is committed."""
        await self._strategy.flush()
        await self._commit()

    def assigned(self, partitions: list[TopicPartition]) -> None:
        if self._resume_from is not None and partitions:
            self._unresolved |= set(partitions)
            self._consumer.pause(*partitions)
            self._resolve_at = 0.0
            self._assignments += 1

    async def _resolve(self) -> None:
        """Start each newly assigned partition after the last offset the output holds (asked
        again every second while it does not answer; the partitions stay paused meanwhile)."""
        if not self._unresolved or time.monotonic() < self._resolve_at:
            return
        assert self._resume_from is not None
        self._unresolved &= self._consumer.assignment()  # revoked meanwhile: another resolves
        mine = list(self._unresolved)
        if not mine:
            return
        generation = self._assignments
        try:
            held = await asyncio.to_thread(self._resume_from, [tp.partition for tp in mine])
        except Exception as exc:
            log.warning("%s: cannot read how far the output holds the partitions yet (%s);"
                        " they stay paused", self.name, exc)  # fmt: skip
            self._resolve_at = time.monotonic() + 1.0
            return
        if generation != self._assignments:
            return  # a rebalance happened meanwhile: resolve what is assigned now
        for tp in mine:
            if tp.partition in held:
                after = held[tp.partition] + 1
                if after > await self._consumer.position(tp):
                    log.info("%s: %s resumes after offset %d, held by the output",
                             self.name, tp, after - 1)  # fmt: skip
                    self._consumer.seek(tp, after)
        self._consumer.resume(*mine)
        self._unresolved.clear()

    async def _in_order(self, records: list[Any]) -> None:
        for record in records:
            await self._submit(record)

    async def _submit(self, record: Any) -> None:
        delay = self._base_delay_s
        for attempt in range(1, self._attempts + 1):
            try:
                await self._strategy.submit(record)
                return
            except Exception as exc:  # the strategy's failure on this record
                metrics.CONSUMER_FAILURES.labels(self.name).inc()
                error = f"{type(exc).__name__}: {exc}"
                where = f"{record.topic}[{record.partition}]@{record.offset}"
                if attempt == self._attempts or isinstance(exc, Poison):
                    await self._give_up(record, error, attempt)
                    return
                log.warning("%s: %s failed (attempt %d): %s; retrying in %.1fs",
                            self.name, where, attempt, error, delay)  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _give_up(self, record: Any, error: str, attempts: int) -> None:
        letter = pb.dead_letters_pb2.DeadLetter(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key or b"",
            value=record.value or b"",
            consumer=self.name,
            reason=error[:MAX_REASON_CHARS],
            attempts=attempts,
            provider_id=self._who(record),
        )
        letter.given_up_at.FromNanoseconds(time.time_ns())
        await self._dead_letters.send(letter)
        log.error(
            "%s: gave up %s[%d]@%d after %d attempts (kept as a dead letter): %s",
            self.name, record.topic, record.partition, record.offset, attempts, error,
        )  # fmt: skip
        metrics.DEAD_LETTERS.labels(self.name).inc()
        self.given_up += 1
        self._strategy.skip(record)

    async def _commit(self) -> None:
        offsets = dict(self._strategy.committable())
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as exc:
            # The partitions moved to another member, which re-reads from the last commit; the
            # strategies' writes are idempotent.
            log.info("%s: commit skipped after rebalance: %s", self.name, exc)


class DeadLetterTopic:
    """Dead letters produced to jg.dead-letters.v1 (keyed like the record they hold), each
    retried until the broker acknowledges it."""

    def __init__(self, producer: EventLogProducer, topic: str) -> None:
        self._producer = producer  # started and stopped by its owner
        self._topic = topic

    async def send(self, letter: pb.dead_letters_pb2.DeadLetter) -> None:
        value = letter.SerializeToString()
        await self._producer.send_until_acknowledged(self._topic, letter.key, value, [])


class FinishedInOrder:
    """For strategies that finish each record within ``submit``: the offsets to commit are
    those after the last record finished (or skipped) per partition."""

    def __init__(self) -> None:
        self._done: dict[TopicPartition, int] = {}

    def finished(self, record: Any) -> None:
        self._done[TopicPartition(record.topic, record.partition)] = record.offset + 1

    def committable(self) -> Mapping[TopicPartition, int]:
        done, self._done = self._done, {}
        return done
