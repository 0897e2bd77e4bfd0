"""Chains checked at ingest, across two gateway processes on the real broker: a reporter that
moves to another gateway continues its chain, one that lost its state continues from where the
platform holds it, a chain started again is refused as a fork, a resend is a duplicate on any
gateway, and GetChainHeads answers each provider for its own chains only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jianguan.contracts import pb
from jianguan.gateway.server import Gateway
from jianguan_sdk import builders
from jianguan_sdk.chain import event_hash
from jianguan_sdk.client import IngestClient
from jianguan_sdk.sync import Reporter
from tests.helpers import chained
from tests.integration.conftest import TOKENS, Spine, registry

pytestmark = pytest.mark.integration
S = pb.ingest_pb2


@pytest.fixture
def second(spine: Spine) -> Iterator[str]:
    """Another gateway process on the same event log: the address of its port."""
    gateway = Gateway(registry(), spine.bootstrap, spine.namespace)
    spine.loop.run(gateway.start())
    try:
        yield f"127.0.0.1:{gateway.port}"
    finally:
        spine.loop.run(gateway.stop(grace=1))


def _events(n: int, prefix: str) -> list[pb.event_pb2.Event]:
    return [
        builders.generation(request_model="m-1", event_id=f"{prefix}-{i}", user_ref="u_0123abcd")
        for i in range(n)
    ]


def _publish(spine: Spine, target: str, events: list[pb.event_pb2.Event]) -> pb.BatchAck:
    async def send() -> pb.BatchAck:
        async with IngestClient(target, token=TOKENS["acme-ai"]) as client:
            return await client.publish_batch(events, "b")

    return spine.loop.run(send())


def test_a_reporter_continues_its_chain_on_another_gateway_and_after_losing_its_state(
    spine: Spine, second: str, tmp_path: Path
) -> None:
    with Reporter(spine.target, token=TOKENS["acme-ai"], spool_dir=tmp_path / "a") as r:
        first = [f.result(30) for f in r.report_many("chat", _events(50, "one"))]
    # the same spool through the other gateway: it takes the chain where the first left it
    with Reporter(second, token=TOKENS["acme-ai"], spool_dir=tmp_path / "a") as r:
        moved = [f.result(30) for f in r.report_many("chat", _events(30, "two"))]
    # a new spool (the disk was lost): the platform says where the chain stands
    with Reporter(second, token=TOKENS["acme-ai"], spool_dir=tmp_path / "lost") as r:
        assert r.session is not None
        resumed = [f.result(30) for f in r.report_many("chat", _events(20, "three"))]
    outcomes = first + moved + resumed
    assert [o.status for o in outcomes] == ["ACCEPTED"] * 100
    assert [o.sequence for o in outcomes] == list(range(1, 101))
    assert spine.wait_stored(100) == 100
    rows = spine.query(
        "SELECT min(sequence), max(sequence), uniqExact(sequence), count() FROM events"
        " WHERE service_id = 'chat' AND stream_id = ''"
    )
    assert rows == [(1, 100, 100, 100)]


def test_a_chain_started_again_is_refused_and_a_resend_is_a_duplicate_anywhere(
    spine: Spine, second: str
) -> None:
    events = chained("again", 5, stream="")
    assert _publish(spine, spine.target, events).accepted == 5
    # the same events through the other gateway (its memory of ids is empty): a resend, proven
    # by the chain
    resend = _publish(spine, second, events)
    assert [r.status for r in resend.results] == [S.ITEM_STATUS_DUPLICATE] * 5
    assert "its chain holds it already (sequence 1)" in resend.results[0].reason
    # other events from sequence 1 again: a fork, each refused with what to do
    fresh = chained("restart", 3, stream="")
    for target in (spine.target, second):
        ack = _publish(spine, target, fresh)
        assert [r.status for r in ack.results] == [S.ITEM_STATUS_CHAIN_FORK] * 3
        assert "sequence 1 is before the chain's last (5)" in ack.results[0].reason
        assert "GetChainHeads" in ack.results[0].reason
    # a gap: sequence 7 after 5
    ahead = chained("again", 7, stream="")[6:]
    ack = _publish(spine, second, ahead)
    assert [r.status for r in ack.results] == [S.ITEM_STATUS_CHAIN_GAP]
    assert "the chain expects 6 next" in ack.results[0].reason
    assert spine.wait_stored(5) == 5
    assert spine.query("SELECT count(), uniqExact(event_id) FROM events") == [(5, 5)]


def test_get_chain_heads_answers_for_the_callers_chains_of_one_stream(
    spine: Spine, second: str
) -> None:
    mine = {
        ("svc-a", ""): chained("ha", 4, service="svc-a", stream=""),
        ("svc-b", ""): chained("hb", 2, service="svc-b", stream=""),
        ("svc-a", "pod-1"): chained("hp", 3, service="svc-a", stream="pod-1"),
    }
    for events in mine.values():
        assert _publish(spine, spine.target, events).accepted == len(events)

    async def ask(token: str, stream: str, services: tuple[str, ...] = ()) -> list[tuple]:
        async with IngestClient(second, token=token) as client:
            heads = await client.chain_heads(stream, services)
        return [(h.service_id, h.stream_id, h.sequence, h.hash, h.event_id) for h in heads]

    def head(key: tuple[str, str]) -> tuple:
        last = mine[key][-1]
        return (*key, last.envelope.sequence, event_hash(last), last.envelope.event_id)

    assert spine.loop.run(ask(TOKENS["acme-ai"], "")) == [head(("svc-a", "")), head(("svc-b", ""))]
    assert spine.loop.run(ask(TOKENS["acme-ai"], "", ("svc-b",))) == [head(("svc-b", ""))]
    assert spine.loop.run(ask(TOKENS["acme-ai"], "pod-1")) == [head(("svc-a", "pod-1"))]
    assert spine.loop.run(ask(TOKENS["beta-ai"], "")) == []  # another provider sees none
