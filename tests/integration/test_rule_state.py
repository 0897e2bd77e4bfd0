"""The rules' state writes reach its changelog as faust would have written them: one record per
write under its key, a tombstone per delete, in write order per partition, nothing left behind."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from jianguan.processors.state import RuleState
from jianguan.runtime.broker import KafkaCluster
from jianguan.runtime.kafka_admin import ensure_topics

pytestmark = pytest.mark.integration


@dataclass
class _Topic:
    name: str

    def get_topic_name(self) -> str:
        return self.name


@dataclass
class _Table:
    """What RuleState uses of a faust Table: its store and its changelog topic."""

    changelog_topic: _Topic
    data: dict[bytes, Any] = field(default_factory=dict)


async def _read(bootstrap: str, topic: str, partition: int) -> list[tuple[bytes, bytes | None]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        out: list[tuple[bytes, bytes | None]] = []
        while await consumer.position(tp) < end:
            for records in (await consumer.getmany(tp, timeout_ms=1000)).values():
                out += [(r.key, r.value) for r in records]
        return out
    finally:
        await consumer.stop()


def test_writes_reach_the_changelog_in_order_one_record_each(broker: KafkaCluster) -> None:
    topic = f"rule-state-{uuid.uuid4().hex[:8]}-changelog"
    ensure_topics(broker.bootstrap, [topic], 3)
    table = _Table(_Topic(topic))
    big = b"v" * 300_000  # two of these do not fit one batch

    async def run() -> RuleState:
        state = RuleState(table, broker.bootstrap)
        with pytest.raises(RuntimeError):  # no record's partition set yet
            state["a"] = b"1"
        state.partition = 0
        state["a"] = b"1"
        state["b"] = b"2"
        state["a"] = b"3"  # only the last write of a key goes out
        state.partition = 2
        state["c"] = big
        state["d"] = big
        del state["c"]
        assert state.pending == 4
        await state.flush()
        assert state.pending == 0  # handed to the writer, sent in the background
        state.partition = 0
        state["marker"] = b"m"
        await state.close()
        return state

    state = asyncio.run(run())
    assert dict(state.items()) == {"a": b"3", "b": b"2", "d": big, "marker": b"m"}
    # each key's last write, in the order those were made
    assert asyncio.run(_read(broker.bootstrap, topic, 0)) == [
        (b"b", b"2"),
        (b"a", b"3"),
        (b"marker", b"m"),
    ]
    assert asyncio.run(_read(broker.bootstrap, topic, 2)) == [(b"d", big), (b"c", None)]
    assert asyncio.run(_read(broker.bootstrap, topic, 1)) == []
