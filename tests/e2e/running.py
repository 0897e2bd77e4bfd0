"""What the end-to-end tests ask of a running `jianguan up`: its store, and whether the rules and
the sinks have caught up with the log (waits on conditions, never on time alone)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from jianguan.contracts import topics
from jianguan.kafka_io.admin import partitions_of
from jianguan.runtime.broker import running_embedded
from jianguan.runtime.launcher import RunningUp
from jianguan.store.executor import ServerExecutor


def query(up: RunningUp, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    with ServerExecutor(up.writer_url) as ex:
        return ex.execute(sql, params)


def until(
    up: RunningUp, sql: str, want: object, timeout: float = 90, params: dict[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` once they equal ``want`` (the last ones read at the timeout)."""
    deadline = time.monotonic() + timeout
    rows = query(up, sql, params)
    while rows != want and time.monotonic() < deadline:
        time.sleep(0.3)
        rows = query(up, sql, params)
    return rows


def every_partition(up: RunningUp, names: Iterable[str]) -> list[TopicPartition]:
    """Each partition of each topic, as many as the broker says it has."""
    listeners = running_embedded(up.state_dir)
    assert listeners is not None, "no embedded broker under the state dir"
    out = []
    for t in names:
        count = partitions_of(listeners[0], t)
        assert count is not None, f"no topic {t}"
        out += [TopicPartition(t, p) for p in range(count)]
    return out


def committed_to_end(
    up: RunningUp, group: str, tps: list[TopicPartition], timeout: float = 120
) -> None:
    """Waits until ``group`` has committed each of ``tps`` up to where it ends now (fails the
    test when it has not after ``timeout`` seconds)."""
    listeners = running_embedded(up.state_dir)
    assert listeners is not None, "no embedded broker under the state dir"
    asyncio.run(_committed_to_end(listeners[0], group, tps, time.monotonic() + timeout))


async def _committed_to_end(
    bootstrap: str, group: str, tps: list[TopicPartition], deadline: float
) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            while (await consumer.committed(tp) or 0) < ends[tp]:
                assert time.monotonic() < deadline, f"{group} never reached the end of {tp}"
                await asyncio.sleep(0.3)
    finally:
        await consumer.stop()


def settled(up: RunningUp, due_by: float, tick_s: float = 1.0, timeout: float = 120) -> None:
    """Returns once the platform has judged everything sent so far and every deadline up to the
    instant ``due_by`` (epoch seconds), and stored what it found: the rules have ticked past
    ``due_by`` and committed their inputs up to where they end, then the case and alert sinks
    theirs. ``tick_s`` is the rules' tick interval (JIANGUAN_RULE_TICK_SECONDS)."""
    deadline = time.monotonic() + timeout
    # A tick sent after ``due_by`` judges every deadline up to it; two intervals and a margin
    # later one has been sent.
    while time.time() < due_by + 2 * tick_s + 0.5:
        assert time.monotonic() < deadline, "due_by is beyond the timeout"
        time.sleep(0.1)
    inputs = every_partition(
        up,
        (topics.EVENTS, topics.RULE_INPUT, topics.AUTHORITY_COMPLAINTS, topics.AUTHORITY_ACTIONS),
    )
    committed_to_end(up, topics.processors_app_id(), inputs, deadline - time.monotonic())
    for derived in (topics.CASES, topics.ALERTS):
        group = topics.SINK_GROUPS[derived]
        committed_to_end(up, group, every_partition(up, [derived]), deadline - time.monotonic())
