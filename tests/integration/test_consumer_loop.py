"""The consumer loop on a real broker: records reach the strategy in order, only what it finished
is committed, and a record it always fails on becomes a dead letter instead of stopping it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from jianguan.contracts import pb, topics
from jianguan.kafka_io.admin import ensure_topics
from jianguan.kafka_io.consumer_loop import (
    ConsumerLoop,
    DeadLetterTopic,
    FinishedInOrder,
    Poison,
)
from jianguan.kafka_io.producer import EventLogProducer
from jianguan.runtime.broker import KafkaCluster

pytestmark = pytest.mark.integration


class Picky:
    """Takes every record but those valued b"bad" (fails each time) and b"poison" (can never
    be processed)."""

    def __init__(self) -> None:
        self.taken: list[bytes] = []
        self.tries: dict[bytes, int] = {}
        self.three_taken = asyncio.Event()
        self._finished = FinishedInOrder()

    async def submit(self, record: Any) -> None:
        self.tries[record.value] = self.tries.get(record.value, 0) + 1
        if record.value == b"bad":
            raise ValueError("bad is never good")
        if record.value == b"poison":
            raise Poison("not a message of this topic")
        self.taken.append(record.value)
        if len(self.taken) == 3:
            self.three_taken.set()
        self._finished.finished(record)

    def skip(self, record: Any) -> None:
        self._finished.finished(record)

    def committable(self) -> Mapping[TopicPartition, int]:
        return self._finished.committable()

    async def flush(self) -> None:
        pass

    async def poll(self) -> None:
        pass


async def _letters(bootstrap: str, topic: str, n: int) -> list[pb.dead_letters_pb2.DeadLetter]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        out: list[pb.dead_letters_pb2.DeadLetter] = []
        deadline = time.monotonic() + 30
        while len(out) < n and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                out += [pb.dead_letters_pb2.DeadLetter.FromString(r.value) for r in records]
        return out
    finally:
        await consumer.stop()


async def _committed(bootstrap: str, group: str, tp: TopicPartition) -> int | None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        return await consumer.committed(tp)  # type: ignore[no-any-return]
    finally:
        await consumer.stop()


def test_a_record_that_always_fails_becomes_a_dead_letter_and_the_rest_goes_on(
    broker: KafkaCluster,
) -> None:
    namespace = f"t{uuid.uuid4().hex[:10]}"
    source = topics.topic_name("jg.loop-test.v1", namespace)
    dead = topics.topic_name(topics.DEAD_LETTERS, namespace)
    ensure_topics(broker.bootstrap, [source, dead], 1)
    group = f"loop-{namespace}"

    async def scenario() -> tuple[Picky, ConsumerLoop, list[pb.dead_letters_pb2.DeadLetter]]:
        producer = EventLogProducer(broker.bootstrap)
        await producer.start()
        try:
            for value in (b"one", b"bad", b"two", b"poison", b"three"):
                assert await producer.send(source, b"k-" + value, value, [])
            picky = Picky()
            loop = ConsumerLoop(
                "test-loop", broker.bootstrap, group, [source], picky,
                DeadLetterTopic(producer, dead), who=lambda record: "acme-ai",
                attempts=3, base_delay_s=0.01,
            )  # fmt: skip
            await loop.start()
            task = asyncio.create_task(loop.run())
            letters = await _letters(broker.bootstrap, dead, 2)
            await asyncio.wait_for(picky.three_taken.wait(), 30)
            loop.request_stop()
            await asyncio.wait_for(task, 30)
            return picky, loop, letters
        finally:
            await producer.stop()

    picky, loop, letters = asyncio.run(scenario())
    assert picky.taken == [b"one", b"two", b"three"]  # in order, nobody stopped
    assert picky.tries[b"bad"] == 3
    assert picky.tries[b"poison"] == 1  # never tried again
    assert loop.given_up == 2
    got = sorted((d.value, d.offset, d.attempts, d.key, d.topic, d.consumer) for d in letters)
    assert got == [
        (b"bad", 1, 3, b"k-bad", source, "test-loop"),
        (b"poison", 3, 1, b"k-poison", source, "test-loop"),
    ]
    reasons = {d.value: d.reason for d in letters}
    assert reasons == {
        b"bad": "ValueError: bad is never good",
        b"poison": "Poison: not a message of this topic",
    }
    assert {d.provider_id for d in letters} == {"acme-ai"}
    assert all(d.given_up_at.seconds > 0 for d in letters)
    # Everything is finished, the dead letters included: the group committed past the end.
    tp = TopicPartition(source, 0)
    assert asyncio.run(_committed(broker.bootstrap, group, tp)) == 5
