"""One provider cannot take the others' turn at a real gateway: its streams, its batches in
flight and its rate are bounded on its own account, refused early, and another provider is
served meanwhile."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest

from jianguan.accounts.registry import Provider, ProviderRegistry, token_digest
from jianguan.contracts import pb, topics
from jianguan.gateway.fairness import FairnessLimits
from jianguan.gateway.server import Gateway
from jianguan.kafka_io.admin import ensure_topics
from jianguan.runtime.broker import KafkaCluster
from jianguan_sdk.client import IngestClient
from tests.helpers import chained
from tests.integration.conftest import LoopThread

pytestmark = pytest.mark.integration
RATE_LIMITED = pb.ingest_pb2.ITEM_STATUS_RATE_LIMITED


@pytest.fixture
def gateway(broker: KafkaCluster) -> Iterator[tuple[LoopThread, Gateway]]:
    namespace = f"t{uuid.uuid4().hex[:10]}"
    ensure_topics(
        broker.bootstrap,
        [topics.topic_name(t, namespace) for t in (topics.EVENTS, topics.OUTCOMES)],
        topics.PARTITIONS,
    )
    registry = ProviderRegistry(
        [
            Provider("flood-ai", "Flood", token_digest("tok-flood"), rate_per_s=0.01, burst=10),
            Provider("calm-ai", "Calm", token_digest("tok-calm")),
        ]
    )
    loop = LoopThread()
    gw = Gateway(
        registry,
        broker.bootstrap,
        namespace,
        fairness=FairnessLimits(
            max_streams=2, max_in_flight=2, rate_limited_hold_s=60, refusal_delay_s=0.2
        ),
    )
    try:
        loop.run(gw.start())
        yield loop, gw
    finally:
        loop.run(gw.stop(grace=1))
        loop.close()


async def _wait_for(condition) -> bool:  # type: ignore[no-untyped-def]
    for _ in range(1000):
        if condition():
            return True
        await asyncio.sleep(0.01)
    return bool(condition())


def test_a_provider_over_its_bounds_is_refused_early_and_another_is_served(
    gateway: tuple[LoopThread, Gateway],
) -> None:
    loop, gw = gateway
    target = f"127.0.0.1:{gw.port}"
    shares = gw.servicer.shares

    async def scenario() -> None:
        async with (
            IngestClient(target, token="tok-flood") as flood,
            IngestClient(target, token="tok-calm") as calm,
        ):
            # The burst of 10 is taken (it refills at one token per 100 s); the next batches are
            # refused whole from their outline, and each keeps one of the provider's two slots
            # for a minute.
            first = await flood.publish_batch(chained("f0", 10), "f0")
            assert first.accepted == 10
            for i in (1, 2):
                ack = await flood.publish_batch(chained(f"f{i}", 50), f"f{i}")
                assert (ack.batch_id, ack.received, ack.accepted) == (f"f{i}", 50, 0)
                assert [r.index for r in ack.results] == list(range(50))
                assert {r.status for r in ack.results} == {RATE_LIMITED}
            assert shares.in_flight("flood-ai") == 2
            # Two more calls of the flooder wait for its slots; a third is refused at once.
            waiting = [
                asyncio.create_task(flood.publish_batch(chained(f"w{i}", 5), f"w{i}"))
                for i in range(2)
            ]
            assert await _wait_for(lambda: shares._share("flood-ai").waiting == 2)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await flood.publish_batch(chained("w3", 5), "w3")
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "batches in flight" in (refused.value.details() or "")
            # Meanwhile another provider is served as if nothing happened.
            calm_ack = await calm.publish_batch(chained("c", 100), "c")
            assert (calm_ack.accepted, list(calm_ack.results)) == (100, [])
            for task in waiting:
                task.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)

    loop.run(scenario(), timeout=60)


def test_streams_beyond_the_bound_are_refused_before_they_are_read(
    gateway: tuple[LoopThread, Gateway],
) -> None:
    loop, gw = gateway
    target = f"127.0.0.1:{gw.port}"
    shares = gw.servicer.shares

    async def scenario() -> None:
        hold = asyncio.Event()

        async def idle() -> AsyncIterator[pb.EventBatch]:
            await hold.wait()
            return
            yield  # an async generator that sends nothing until released

        async def drain(client: IngestClient) -> list[pb.BatchAck]:
            return [ack async for ack in client.publish_stream(idle())]

        async with IngestClient(target, token="tok-calm") as calm:
            open_streams = [asyncio.create_task(drain(calm)) for _ in range(2)]
            assert await _wait_for(lambda: shares.open_streams("calm-ai") == 2)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await drain(calm)
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "open Publish streams" in (refused.value.details() or "")
            hold.set()
            assert await asyncio.gather(*open_streams) == [[], []]
            assert await _wait_for(lambda: shares.open_streams("calm-ai") == 0)

            async def one() -> AsyncIterator[pb.EventBatch]:
                yield pb.EventBatch(batch_id="s", events=chained("s", 3))

            acks = [ack async for ack in calm.publish_stream(one())]
            assert [(a.batch_id, a.accepted) for a in acks] == [("s", 3)]
            assert await _wait_for(lambda: shares.in_flight("calm-ai") == 0)

    loop.run(scenario(), timeout=60)
