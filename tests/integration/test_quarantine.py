"""Poison on the log never stops storage: the sinks set aside what they cannot keep, with the
reason, and store everything else exactly once (raw rows, real Kafka and ClickHouse)."""

from __future__ import annotations

import json
import time
from concurrent.futures import Future

import pytest
from kafka import KafkaProducer

from jianguan import metrics
from jianguan.cli import main
from jianguan.contracts import pb, topics
from jianguan.contracts.codec import encode_batch
from jianguan.kafka_io.admin import ensure_topics
from jianguan.runtime.broker import KafkaCluster
from jianguan.store.executor import ClickHouseUrl, ServerExecutor
from jianguan.store.outcomes import OutcomeBatch
from jianguan.store.sink import StoreSink
from jianguan.store.writer import BatchWriter
from jianguan_sdk.client import IngestClient
from tests.helpers import chained, generation
from tests.integration.conftest import TOKENS, LoopThread, Spine, _wait, new_sink

pytestmark = pytest.mark.integration


def _filing(event_id: str, now: float, minutes: int) -> pb.event_pb2.Event:
    ev = pb.Event()
    env = ev.envelope
    env.event_id, env.service_id, env.sequence, env.schema_version = event_id, "svc-k", 1, 1
    env.occurred_at.seconds = int(now)
    f = ev.service_filing
    f.kind = pb.bodies_pb2.FILING_KIND_REGISTRATION
    f.status = pb.bodies_pb2.FILING_STATUS_GRANTED
    f.minor_daily_minutes = minutes
    return ev


def _quarantined(spine: Spine) -> list[tuple[int, str, str]]:
    rows = spine.query(
        "SELECT item, event_id, cause FROM quarantine WHERE topic = %(t)s"
        " ORDER BY kafka_offset, item",
        {"t": spine.topic},
    )
    return [(int(i), str(e), str(c)) for i, e, c in rows]


def _wait_for(condition, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


def test_poison_records_are_set_aside_and_the_rest_is_stored_once(
    spine: Spine, broker: KafkaCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    now = time.time()
    before = {
        c: metrics.STORE_QUARANTINED.labels("events", c)._value.get()
        for c in ("undecodable", "unattributed", "bad_header", "out_of_range")
    }

    async def publish(pid: str, prefix: str, n: int) -> int:
        async with IngestClient(spine.target, token=TOKENS[pid]) as client:
            ack = await client.publish_batch(chained(prefix, n, service="svc-ok"), prefix)
        return int(ack.accepted)

    assert spine.loop.run(publish("acme-ai", "before", 40)) == 40

    # What only a broken or bypassed writer could put on the topic (the gateway refuses these
    # values): written as the platform's super user on the internal listener.
    big = _filing("k-big", now, 70_000)
    year_one = generation("y1", now)
    year_one.envelope.occurred_at.seconds = -62135596800
    fine = generation("fine-1", now, service="svc-k")
    headers = topics.event_headers("beta-ai", int(now * 1000))
    producer = KafkaProducer(bootstrap_servers=spine.bootstrap)
    try:
        for value, hdrs in (
            (encode_batch("p1", [fine.SerializeToString(), big.SerializeToString()]), headers),
            (encode_batch("p2", [year_one.SerializeToString()]), headers),
            (
                encode_batch("p3", [fine.SerializeToString()]),
                [*headers[:1], (topics.HEADER_RECEIVED_MS, b"soon")],
            ),
            (encode_batch("p4", [fine.SerializeToString()]), []),
            (b"\xff\xff\xff not protobuf", headers),
            (None, headers),
        ):
            producer.send(spine.topic, value, key=b"beta-ai/svc-k", headers=hdrs)
        producer.flush(30)
    finally:
        producer.close()

    assert spine.loop.run(publish("gamma-ai", "after", 30)) == 30
    expected = [
        (2, "k-big", "out_of_range"),
        (1, "y1", "out_of_range"),
        (0, "", "bad_header"),
        (0, "", "unattributed"),
        (0, "", "undecodable"),
        (0, "", "undecodable"),
    ]
    assert _wait_for(lambda: _quarantined(spine) == expected), _quarantined(spine)
    assert spine.wait_stored(71) == 71
    rows = spine.query(
        "SELECT provider_id, count(), uniqExact(event_id) FROM events"
        " GROUP BY provider_id ORDER BY provider_id"
    )
    # raw rows, no FINAL: each stored once; only "fine-1" of the poisoned records is an event
    assert rows == [("acme-ai", 40, 40), ("beta-ai", 1, 1), ("gamma-ai", 30, 30)]
    reasons = dict(
        spine.query(
            "SELECT event_id, reason FROM quarantine WHERE topic = %(t)s AND item > 0",
            {"t": spine.topic},
        )
    )
    assert "minor_daily_minutes = 70000" in reasons["k-big"]
    assert "occurred_at = -62135596800" in reasons["y1"]
    after = {c: metrics.STORE_QUARANTINED.labels("events", c)._value.get() for c in before}
    assert {c: after[c] - before[c] for c in before} == {
        "undecodable": 2, "unattributed": 1, "bad_header": 1, "out_of_range": 2,
    }  # fmt: skip
    ex = ServerExecutor(spine.url)
    try:
        payload = ex.execute_bytes(
            "SELECT payload FROM quarantine WHERE topic = %(t)s AND event_id = 'k-big'",
            {"t": spine.topic},
        )
    finally:
        ex.close()
    assert pb.Event.FromString(payload[0][0]).service_filing.minor_daily_minutes == 70_000
    # what an operator sees
    args = ["quarantine", "--clickhouse", spine.url.secret_url(), "--topic", spine.topic]
    capsys.readouterr()
    assert main([*args, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert sorted((i["item"], i["event_id"], i["cause"]) for i in listed) == sorted(expected)
    assert main([*args, "--cause", "out_of_range"]) == 0
    text = capsys.readouterr().out
    assert "event k-big" in text
    assert "minor_daily_minutes = 70000" in text
    assert "undecodable" not in text


def test_a_sink_restarted_after_poison_neither_repeats_nor_stalls(
    spine: Spine, broker: KafkaCluster
) -> None:
    """A second sink in the same group (the first one's commits behind it) stores what comes
    next and sets nothing aside twice."""
    producer = KafkaProducer(bootstrap_servers=spine.bootstrap)
    try:
        producer.send(spine.topic, b"\x08", key=b"acme-ai/x", headers=[])
        producer.flush(30)
    finally:
        producer.close()
    assert _wait_for(lambda: len(_quarantined(spine)) == 1)

    async def publish(prefix: str) -> int:
        async with IngestClient(spine.target, token=TOKENS["acme-ai"]) as client:
            ack = await client.publish_batch(chained(prefix, 10, service="svc-r"), prefix)
        return int(ack.accepted)

    assert spine.loop.run(publish("r1")) == 10
    assert spine.wait_stored(10) == 10
    loop = LoopThread()
    second = new_sink(spine.bootstrap, spine.topic, spine.url, f"store-{spine.topic}")
    try:
        loop.run(second.start())
        task = loop.submit(second.run())
        assert spine.loop.run(publish("r2")) == 10
        assert spine.wait_stored(20) == 20
    finally:
        second.request_stop()
        loop.run(_wait(task), timeout=40)
        loop.close()
    assert spine.query("SELECT count(), uniqExact(event_id) FROM events") == [(20, 20)]
    assert len(_quarantined(spine)) == 1


def test_rows_the_store_refuses_are_found_by_splitting_and_set_aside(
    broker: KafkaCluster, database: ClickHouseUrl
) -> None:
    """An outcome whose time no DateTime holds fails its insert; the sink splits the batch,
    stores the 20 good outcomes and sets the bad one aside, in order."""
    topic = f"t{time.time_ns()}.outcomes"
    ensure_topics(broker.bootstrap, [topic], 1)
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    try:
        for i in range(21):
            o = pb.ingest_pb2.IngestOutcome(outcome_id=f"o{i}", path="grpc", received=1)
            o.received_at.seconds = -5 if i == 13 else int(time.time())
            producer.send(topic, o.SerializeToString(), headers=[("jg-provider", b"acme-ai")])
        producer.flush(30)
    finally:
        producer.close()
    loop = LoopThread()
    sink = StoreSink(
        broker.bootstrap, topic, f"g-{topic}", lambda: BatchWriter(ServerExecutor(database)),
        OutcomeBatch, max_wait_s=0.5,
    )  # fmt: skip
    ex = ServerExecutor(database)
    task: Future[None] | None = None
    try:
        loop.run(sink.start())
        task = loop.submit(sink.run())
        assert _wait_for(
            lambda: (
                ex.execute("SELECT count() FROM quarantine WHERE topic = %(t)s", {"t": topic})
                == [(1,)]
            )
        )
        assert _wait_for(lambda: ex.execute("SELECT count() FROM ingest_outcomes") == [(20,)])
        rows = ex.execute(
            "SELECT kafka_offset, cause FROM quarantine WHERE topic = %(t)s", {"t": topic}
        )
        assert rows == [(13, "refused")]
        stored = ex.execute("SELECT outcome_id FROM ingest_outcomes ORDER BY kafka_offset")
        assert [r[0] for r in stored] == [f"o{i}" for i in range(21) if i != 13]
    finally:
        sink.request_stop()
        if task is not None:
            loop.run(_wait(task), timeout=40)
        loop.close()
        ex.close()
