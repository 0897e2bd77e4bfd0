"""The rules' state writes reach its changelog as faust would have written them: one record per
write under its key, a tombstone per delete, in write order per partition, nothing left behind;
on disk, each partition's keys live in its own RocksDB database, read by key range."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.stores.rocksdb import RocksDBOptions
from faust.types import TP

from jianguan.kafka_io.admin import ensure_topics
from jianguan.processors.state import RuleState
from jianguan.runtime.broker import KafkaCluster

pytestmark = pytest.mark.integration


@dataclass
class _Topic:
    name: str

    def get_topic_name(self) -> str:
        return self.name


class _MemoryStore(dict[bytes, Any]):
    """faust's memory store: a mapping that persists no offsets."""

    def set_persisted_offset(self, tp: TP, offset: int) -> None:
        pass


@dataclass
class _Table:
    """What RuleState uses of a faust Table: its store and its changelog topic."""

    changelog_topic: _Topic
    data: Any = field(default_factory=_MemoryStore)


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


class _DiskStore:
    """What RuleState uses of faust's RocksDB store: a real RocksDB database per partition,
    opened by faust's own options (rocksdict), faust's iteration over them and its persisted
    offsets."""

    use_rocksdict = True

    def __init__(self, root: Path) -> None:
        self.root = root
        self.rocksdb_options = RocksDBOptions(use_rocksdict=True)
        self._dbs: dict[int, Any] = {}
        self.persisted: dict[TP, int] = {}

    def _db_for_partition(self, partition: int) -> Any:
        if partition not in self._dbs:
            path = self.root / f"p{partition}.db"
            self._dbs[partition] = self.rocksdb_options.open(path)
        return self._dbs[partition]

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        for p in sorted(self._dbs):
            yield from self._dbs[p].items()

    def set_persisted_offset(self, tp: TP, offset: int) -> None:
        self.persisted[tp] = offset


def _logged_bytes(db: Path) -> int:
    return sum(f.stat().st_size for f in db.glob("*.log"))


def _in_memory(db: Any) -> int:
    return int(db.property_int_value("rocksdb.num-entries-active-mem-table"))


def test_on_disk_each_partition_has_its_database_read_by_key_range(
    broker: KafkaCluster, tmp_path: Path
) -> None:
    topic = f"rule-state-{uuid.uuid4().hex[:8]}-changelog"
    ensure_topics(broker.bootstrap, [topic], 2)
    store = _DiskStore(tmp_path)
    table = _Table(_Topic(topic), store)

    async def run() -> tuple[RuleState, bool]:
        state = RuleState(table, broker.bootstrap)
        with pytest.raises(RuntimeError):  # a read needs its partition's database
            state.get("a")
        state.partition = 0
        for key in ("received|p/s|0002|u2", "received|p/s|0001|u1", "received|p/s|0003|u3"):
            state[key] = b""
        state["unit"] = b"zero"
        state.partition = 1
        state["unit"] = b"one"
        state["received|p/s|0002|elsewhere"] = b""
        await state.flush()
        # written without RocksDB's log, in memory until the clean shutdown flushes them
        assert _logged_bytes(tmp_path / "p0.db") == 0
        assert _in_memory(store._dbs[0]) == 4
        assert state["unit"] == b"one"
        state.partition = 0
        assert state["unit"] == b"zero"
        assert list(state.keys_between("received|p/s|0001", "received|p/s|0003")) == [
            "received|p/s|0001|u1",
            "received|p/s|0002|u2",
        ]
        return state, await state.close()

    state, complete = asyncio.run(run())
    assert complete
    assert [_in_memory(store._dbs[p]) for p in (0, 1)] == [0, 0]  # on disk before marked clean
    assert dict(state.items()) == {
        "received|p/s|0001|u1": b"", "received|p/s|0002|u2": b"",
        "received|p/s|0003|u3": b"", "unit": b"one",  # partition 1's, iterated last
        "received|p/s|0002|elsewhere": b"",
    }  # fmt: skip
    # faust's recovery starts after the last write the changelog holds, per partition
    assert store.persisted == {TP(topic, 0): 3, TP(topic, 1): 1}
    assert len(asyncio.run(_read(broker.bootstrap, topic, 0))) == 4
