"""The gateway serves at once even while the event store cannot answer; the ids it should
remember arrive in the background and are answered DUPLICATE from then on."""

from __future__ import annotations

import threading
import uuid

import pytest

from jianguan.contracts import pb, topics
from jianguan.gateway.server import Gateway
from jianguan.kafka_io.admin import ensure_topics
from jianguan.runtime.broker import KafkaCluster
from jianguan_sdk.client import IngestClient
from tests.helpers import chained
from tests.integration.conftest import TOKENS, LoopThread, registry

pytestmark = pytest.mark.integration


def test_the_gateway_accepts_while_the_store_is_down_and_remembers_once_it_answers(
    broker: KafkaCluster,
) -> None:
    namespace = f"t{uuid.uuid4().hex[:10]}"
    ensure_topics(
        broker.bootstrap,
        [topics.topic_name(t, namespace) for t in (topics.EVENTS, topics.OUTCOMES)],
        topics.PARTITIONS,
    )
    stored_before = chained("before", 5)
    store_up = threading.Event()
    asked = []

    def known_ids() -> list[tuple[str, str]]:
        asked.append(1)
        if not store_up.is_set():
            raise ConnectionRefusedError("ClickHouse is down")
        return [("acme-ai", e.envelope.event_id) for e in stored_before]

    loop = LoopThread()
    gateway = Gateway(registry(), broker.bootstrap, namespace)

    async def publish(events: list[pb.event_pb2.Event]) -> pb.BatchAck:
        async with IngestClient(f"127.0.0.1:{gateway.port}", token=TOKENS["acme-ai"]) as c:
            return await c.publish_batch(events)

    try:
        loop.run(gateway.start(known_ids))
        assert loop.run(publish(chained("meanwhile", 3))).accepted == 3  # serving already
        assert asked  # and it tried the store
        assert gateway.warm_start is not None
        assert not gateway.warm_start.done()
        store_up.set()
        assert loop.run(_wait(gateway.warm_start), timeout=60) == 5
        again = loop.run(publish(stored_before))
        assert again.accepted == 0
        assert {r.status for r in again.results} == {pb.ingest_pb2.ITEM_STATUS_DUPLICATE}
    finally:
        loop.run(gateway.stop(grace=1))
        loop.close()


async def _wait(task: object) -> int:
    return await task  # type: ignore[no-any-return, misc]
