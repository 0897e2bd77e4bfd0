"""The spine end to end: real gRPC on loopback, real Tansu, real ClickHouse server."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from jianguan.contracts import pb
from jianguan.simulator.sender import Tally, stream_provider
from jianguan.simulator.traffic import ProviderTraffic
from jianguan_sdk.client import IngestClient
from tests.helpers import chained, generation
from tests.integration.conftest import TOKENS, Spine

pytestmark = pytest.mark.integration


async def _publish(
    target: str, token: str, events: list[pb.event_pb2.Event], batch_id: str = "b"
) -> pb.BatchAck:
    async with IngestClient(target, token=token) as client:
        return await client.publish_batch(events, batch_id)


def test_ten_thousand_events_from_three_providers_land_exactly_once(spine: Spine) -> None:
    tally = Tally()
    per_provider = {"acme-ai": 4000, "beta-ai": 3500, "gamma-ai": 2500}

    async def send_all() -> None:
        await asyncio.gather(
            *(
                stream_provider(
                    spine.target,
                    TOKENS[pid],
                    ProviderTraffic(pid, ("svc-a", "svc-b"), 7),
                    n,
                    250,
                    tally,
                )
                for pid, n in per_provider.items()
            )
        )

    spine.loop.run(send_all(), timeout=120)
    assert tally.sent == tally.accepted == 10_000, tally.rejected
    assert spine.wait_stored(10_000) == 10_000
    rows = spine.query(
        "SELECT provider_id, count(), uniqExact(event_id) FROM events"
        " GROUP BY provider_id ORDER BY provider_id"
    )
    assert rows == [(pid, n, n) for pid, n in sorted(per_provider.items())]
    # Per service, sequence numbers arrive complete and in order of the chain.
    gaps = spine.query(
        "SELECT provider_id, service_id, max(sequence) - count() FROM events FINAL"
        " GROUP BY provider_id, service_id"
    )
    assert all(g[2] == 0 for g in gaps), gaps


def test_invalid_items_are_reported_and_only_valid_ones_stored(spine: Spine) -> None:
    events = chained("mix", 6)
    events[1].generation.output_type = 99  # type: ignore[assignment]
    events[2].envelope.event_id = "not valid!"
    events[4].generation.user_ref = "13800138000"
    ack = spine.loop.run(_publish(spine.target, TOKENS["acme-ai"], events, "mixed-1"))
    assert (ack.batch_id, ack.received, ack.accepted) == ("mixed-1", 6, 3)
    by_index = {r.index: r for r in ack.results}
    assert set(by_index) == {1, 2, 4}
    assert by_index[1].status == pb.ingest_pb2.ITEM_STATUS_INVALID
    assert by_index[1].field_path == "events[1].generation.output_type"
    assert by_index[2].field_path == "events[2].envelope.event_id"
    assert by_index[4].status == pb.ingest_pb2.ITEM_STATUS_PERSONAL_INFORMATION
    assert by_index[4].field_path == "events[4].generation.user_ref"
    assert all(r.reason for r in ack.results)
    assert spine.wait_stored(3) == 3
    stored = spine.query("SELECT event_id FROM events ORDER BY event_id")
    assert stored == [("mix-0",), ("mix-3",), ("mix-5",)]


def test_wrong_or_missing_token_is_unauthenticated(spine: Spine) -> None:
    for token in ("wrong-token", None):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            spine.loop.run(_publish(spine.target, token, [generation("x")]))  # type: ignore[arg-type]
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    marker = spine.barrier("acme-ai")
    assert spine.query("SELECT event_id FROM events") == [(marker,)]


def test_a_provider_cannot_report_as_another(spine: Spine) -> None:
    events = [generation("own"), generation("spoof")]
    events[1].envelope.provider_id = "beta-ai"
    ack = spine.loop.run(_publish(spine.target, TOKENS["acme-ai"], events))
    (refused,) = ack.results
    assert refused.status == pb.ingest_pb2.ITEM_STATUS_FORBIDDEN
    assert refused.index == 1
    assert "beta-ai" in refused.reason
    assert spine.wait_stored(1) == 1
    assert spine.query("SELECT provider_id, event_id FROM events") == [("acme-ai", "own")]


def test_a_replayed_batch_stores_nothing_new(spine: Spine) -> None:
    events = chained("replay", 20)
    first = spine.loop.run(_publish(spine.target, TOKENS["beta-ai"], events))
    assert first.accepted == 20
    again = spine.loop.run(_publish(spine.target, TOKENS["beta-ai"], events))
    assert again.accepted == 0
    assert {r.status for r in again.results} == {pb.ingest_pb2.ITEM_STATUS_DUPLICATE}
    spine.barrier("beta-ai")
    raw = "SELECT count(), uniqExact(event_id) FROM events WHERE event_id LIKE 'replay-%'"
    assert spine.query(raw) == [(20, 20)]


def test_a_sink_that_lost_its_commits_writes_no_row_twice(spine: Spine, broker) -> None:  # type: ignore[no-untyped-def]
    """A sink whose group re-reads the topic from the start (as after a crash between insert and
    commit) starts after what the store holds: the raw table keeps one row per event."""
    from tests.integration.conftest import new_sink

    ack = spine.loop.run(_publish(spine.target, TOKENS["gamma-ai"], chained("redeliver", 50)))
    assert ack.accepted == 50
    assert spine.wait_stored(50) == 50
    second = new_sink(broker.bootstrap, spine.topic, spine.url, "another-group-rereads-everything")

    async def reread() -> bool:
        await second.start()
        task = asyncio.create_task(second.run())
        for _ in range(400):
            if second.resumed:
                break
            await asyncio.sleep(0.05)
        resumed = second.resumed
        second.request_stop()
        await task
        return resumed

    assert spine.loop.run(reread())
    assert second.rows_written == 0
    assert spine.query("SELECT count(), uniqExact(event_id) FROM events") == [(50, 50)]


def test_health_and_reflection(spine: Spine) -> None:
    async def check() -> tuple[int, list[str]]:
        async with grpc.aio.insecure_channel(spine.target) as channel:
            health = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=pb.INGEST_SERVICE)
            )
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            names: list[str] = []
            async for resp in stub.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            ):
                names = [s.name for s in resp.list_services_response.service]
            return health.status, names

    status, services = spine.loop.run(check())
    assert status == health_pb2.HealthCheckResponse.SERVING
    assert pb.INGEST_SERVICE in services


def test_a_restarted_gateway_still_answers_duplicate(spine: Spine) -> None:
    """The duplicate memory is refilled from the event store when a gateway starts."""
    from jianguan.gateway.server import Gateway
    from jianguan.store.executor import ServerExecutor
    from jianguan.store.reader import recent_event_ids
    from tests.integration.conftest import registry

    events = chained("restart", 10)
    assert spine.loop.run(_publish(spine.target, TOKENS["acme-ai"], events)).accepted == 10
    assert spine.wait_stored(10) == 10

    def known() -> list[tuple[str, str]]:
        ex = ServerExecutor(spine.url)
        try:
            return recent_event_ids(ex, window_s=3600, limit=1000)
        finally:
            ex.close()

    fresh = Gateway(registry(), spine.bootstrap, spine.namespace)
    spine.loop.run(fresh.start(known))
    assert fresh.warm_start is not None

    async def remembered() -> int:
        assert fresh.warm_start is not None
        return await fresh.warm_start

    assert spine.loop.run(remembered()) >= 10  # refilled in the background
    try:
        again = spine.loop.run(_publish(f"127.0.0.1:{fresh.port}", TOKENS["acme-ai"], events))
    finally:
        spine.loop.run(fresh.stop(grace=1))
    assert again.accepted == 0
    assert {r.status for r in again.results} == {pb.ingest_pb2.ITEM_STATUS_DUPLICATE}


def test_chains_are_checked_at_ingest_and_verified_in_the_store(spine: Spine) -> None:
    import subprocess
    import sys

    intact = chained("chain-a", 12, service="svc-a", stream="")
    replica = chained("chain-r", 5, service="svc-a", stream="pod-2")  # a chain of its own
    for events in (intact, replica):
        assert spine.loop.run(_publish(spine.target, TOKENS["acme-ai"], events)).results == []
    # A withheld event is refused at ingest: what follows it waits for it.
    withheld = chained("chain-b", 12, service="svc-b", stream="")
    del withheld[6]  # sequence 7 never reported
    ack = spine.loop.run(_publish(spine.target, TOKENS["acme-ai"], withheld))
    assert [(r.index, r.status) for r in ack.results] == [
        (i, pb.ingest_pb2.ITEM_STATUS_CHAIN_GAP) for i in range(6, 11)
    ]
    assert "sequence 8 skips sequence 7: the chain expects 7 next" in ack.results[0].reason
    # An event refused for its content was sealed all the same: the chain goes on past it, and
    # the stored chain shows where it is missing.
    refused = chained("chain-c", 6, service="svc-c", stream="")
    refused[3].generation.user_ref = "13800138000"  # raw personal information (Art. 11)
    ack = spine.loop.run(_publish(spine.target, TOKENS["acme-ai"], refused))
    assert [(r.index, r.status) for r in ack.results] == [
        (3, pb.ingest_pb2.ITEM_STATUS_PERSONAL_INFORMATION)
    ]
    assert spine.wait_stored(12 + 5 + 6 + 5) == 28
    proc = subprocess.run(
        [sys.executable, "-m", "jianguan.cli", "verify-chain", "--clickhouse",
         spine.url.secret_url(), "--verbose-ok"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert "acme-ai/svc-a: intact" in lines
    assert "acme-ai/svc-a@pod-2: intact" in lines
    assert "acme-ai/svc-b: intact" in lines  # sequences 1..6: the rest never entered
    assert any(line.startswith("acme-ai/svc-c: gap at sequence 5") for line in lines), lines
    assert "1 chain(s) broken" in proc.stderr


def test_rate_limited_items_are_delivered_by_retries_exactly_once(spine: Spine) -> None:
    from jianguan.accounts.registry import Provider, ProviderRegistry, token_digest
    from jianguan.gateway.server import Gateway
    from jianguan_sdk.retry import Delivery, publish_reliably

    slow = Provider(
        "slow-ai", "Slow", token_sha256=token_digest("tok-slow"), rate_per_s=20, burst=20
    )
    gateway = Gateway(ProviderRegistry([slow]), spine.bootstrap, spine.namespace)
    spine.loop.run(gateway.start())
    try:

        async def send() -> Delivery:
            async with IngestClient(f"127.0.0.1:{gateway.port}", token="tok-slow") as client:
                return await publish_reliably(
                    client, chained("slow", 60), base_delay_s=1.0, rng=lambda: 1.0
                )

        result = spine.loop.run(send(), timeout=60)
    finally:
        spine.loop.run(gateway.stop(grace=1))
    assert result.delivered == 60
    assert result.attempts >= 3  # 20 at once, the rest as the tokens refill
    assert result.rejected == []
    assert result.undelivered == []
    assert spine.wait_stored(60) == 60
    assert spine.query("SELECT count(), uniqExact(event_id) FROM events") == [(60, 60)]
