"""The broker goes away and comes back: the gateway answers UNAVAILABLE (retryable) for every item
it cannot put on the log, keeps serving, and everything it acknowledged ACCEPTED is stored once."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from jianguan.contracts import pb, topics
from jianguan.gateway.server import Gateway
from jianguan.kafka_io.admin import ensure_topics
from jianguan.runtime.broker import KafkaCluster
from jianguan.store.executor import ClickHouseUrl, ServerExecutor
from jianguan_sdk.client import IngestClient
from tests.helpers import chained, eventually
from tests.integration.conftest import TOKENS, LoopThread, new_sink, registry, verified_chains

pytestmark = pytest.mark.integration
UNAVAILABLE = pb.ingest_pb2.ITEM_STATUS_UNAVAILABLE
DUPLICATE = pb.ingest_pb2.ITEM_STATUS_DUPLICATE
# How long a wait across a broker's stop and start may take.
OUTAGE_S = 180.0


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[KafkaCluster]:
    """A broker of this test's own: it is stopped and restarted mid-test."""
    cluster = KafkaCluster(tmp_path)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


async def _finished(task: Future[None]) -> None:
    await asyncio.wrap_future(task)


def _stored(url: ClickHouseUrl) -> list[tuple[int, int]]:
    ex = ServerExecutor(url)
    try:
        return ex.execute("SELECT count(), uniqExact(event_id) FROM events")  # type: ignore[no-any-return]
    finally:
        ex.close()


def test_items_are_unavailable_while_the_broker_is_away_and_accepted_ones_survive(
    own_broker: KafkaCluster, database: ClickHouseUrl
) -> None:
    topic = topics.EVENTS
    ensure_topics(own_broker.bootstrap, [topic, topics.OUTCOMES], topics.PARTITIONS)
    loop = LoopThread()
    gateway = Gateway(registry(), own_broker.bootstrap)
    sink = new_sink(own_broker.bootstrap, topic, database, "store-outage")
    events = chained("outage", 60)

    async def publish(batch: list[pb.event_pb2.Event]) -> pb.BatchAck:
        async with IngestClient(f"127.0.0.1:{gateway.port}", token=TOKENS["acme-ai"]) as c:
            return await c.publish_batch(batch)

    task: Future[None] | None = None
    try:
        loop.run(gateway.start())
        first = loop.run(publish(events[:20]))
        assert first.accepted == 20
        own_broker.stop()
        away = loop.run(publish(events[20:40]), timeout=120)
        assert away.accepted == 0
        assert [r.status for r in away.results] == [UNAVAILABLE] * 20
        own_broker.start()
        # the same items again, and the rest, retried as the SDK does until none is UNAVAILABLE:
        # an item the broker took late is DUPLICATE (stored), never produced twice
        pending, settled = events[20:], 0
        for _ in range(30):
            ack = loop.run(publish(pending), timeout=120)
            retry = {r.index for r in ack.results if r.status == UNAVAILABLE}
            assert {r.status for r in ack.results} <= {UNAVAILABLE, DUPLICATE}
            settled += len(pending) - len(retry)
            pending = [e for i, e in enumerate(pending) if i in retry]
            if not pending:
                break
            loop.run(asyncio.sleep(0.5))
        assert (pending, settled) == ([], 40)
        loop.run(sink.start())
        task = loop.submit(sink.run())
        deadline = 60.0
        while _stored(database)[0][0] < 60 and deadline > 0:
            loop.run(asyncio.sleep(0.2))
            deadline -= 0.2
        assert _stored(database) == [(60, 60)]
    finally:
        sink.request_stop()
        if task is not None:
            loop.run(_finished(task), timeout=40)
        loop.run(gateway.stop(grace=1))
        loop.close()


def test_up_against_a_broker_that_is_down_says_so_in_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    from jianguan.runtime.process import free_port

    closed = f"127.0.0.1:{free_port()}"
    (tmp_path / "providers.toml").write_text(registry().dump(), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "jianguan.cli", "up", "--kafka", closed],
        env={**os.environ, "JIANGUAN_STATE_DIR": str(tmp_path)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: Kafka at {closed}: ")


def test_otlp_exports_while_the_broker_goes_away_are_stored_once_with_their_chain_intact(
    own_broker: KafkaCluster, database: ClickHouseUrl
) -> None:
    """A collector exporting without pause, retrying each export until it is answered OK (as
    OTLP exporters do on UNAVAILABLE), while the broker is stopped and started again: every GenAI
    span is stored once, and the chain the gateway sealed them into is intact, although some
    were stored late (their exports answered UNAVAILABLE)."""
    import threading

    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

    from tests.otlp import export_request, genai_span

    ensure_topics(own_broker.bootstrap, [topics.EVENTS, topics.OUTCOMES], topics.PARTITIONS)
    loop = LoopThread()
    gateway = Gateway(registry(), own_broker.bootstrap)
    sink = new_sink(own_broker.bootstrap, topics.EVENTS, database, "store-otlp-outage")
    per_export = 15
    unavailable: list[int] = []
    completed: list[int] = []
    enough = threading.Event()
    failure: list[BaseException] = []

    def collector() -> None:
        try:
            with grpc.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
                stub = trace_service_pb2_grpc.TraceServiceStub(channel)
                auth = (("authorization", f"Bearer {TOKENS['acme-ai']}"),)
                n = 0
                while not enough.is_set():
                    spans = [genai_span(0) for _ in range(per_export)]
                    for k, span in enumerate(spans):  # distinct trace and span ids
                        span.trace_id = n.to_bytes(8, "big") + k.to_bytes(8, "big")
                        span.span_id = (n * per_export + k + 1).to_bytes(8, "big")
                    request = export_request({"service.name": "acme-chat"}, spans)
                    while True:
                        try:
                            stub.Export(request, metadata=auth, timeout=60)
                            completed.append(n)
                            break
                        except grpc.RpcError as exc:
                            if exc.code() != grpc.StatusCode.UNAVAILABLE:
                                raise
                            unavailable.append(n)
                            time.sleep(0.5)  # an exporter's backoff
                    n += 1
        except BaseException as exc:  # reported by the test's thread
            failure.append(exc)

    task: Future[None] | None = None
    try:
        loop.run(gateway.start())
        loop.run(sink.start())
        task = loop.submit(sink.run())
        thread = threading.Thread(target=collector)
        thread.start()
        eventually(lambda: _stored(database)[0][0] >= 2 * per_export, OUTAGE_S)
        own_broker.stop()
        eventually(lambda: bool(unavailable or failure), OUTAGE_S)  # an export met the broker away
        own_broker.start()
        after = len(completed)
        eventually(lambda: len(completed) >= after + 5 or bool(failure), OUTAGE_S)  # and some after
        enough.set()
        thread.join(600)
        assert not thread.is_alive()
        assert failure == []
        total = len(completed) * per_export
        eventually(lambda: _stored(database)[0][0] >= total, OUTAGE_S)
        assert _stored(database) == [(total, total)]  # raw rows: each span once
        assert verified_chains(database)
    finally:
        sink.request_stop()
        if task is not None:
            loop.run(_finished(task), timeout=40)
        loop.run(gateway.stop(grace=1))
        loop.close()
