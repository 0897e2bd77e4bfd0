"""The SDK reporter against the real gateway, broker and ClickHouse: local checks, sealing,
spooling, per-item outcomes, the blocking client, and resuming a spool."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from jianguan.contracts import pb
from jianguan_sdk import AuthenticationFailed, builders
from jianguan_sdk.outcome import InvalidEvent, Outcome
from jianguan_sdk.reporter import AsyncReporter
from jianguan_sdk.sync import Reporter, SyncIngestClient
from tests.helpers import chained
from tests.integration.conftest import TOKENS, Spine

pytestmark = pytest.mark.integration


def _gen(i: int) -> pb.event_pb2.Event:
    return builders.generation(request_model="m-1", event_id=f"rep-{i}", user_ref="u_0123abcd")


def test_reported_events_are_sealed_stored_once_and_answered(spine: Spine, tmp_path: Path) -> None:
    seen: list[Outcome] = []

    async def run() -> list[Outcome]:
        async with AsyncReporter(
            spine.target, token=TOKENS["acme-ai"], spool_dir=tmp_path, on_result=seen.append
        ) as r:
            futs = r.report_many("chat", [_gen(i) for i in range(1200)])
            futs += [r.report("image", _gen(5000))]
            await r.flush(60)
            assert r.pending == 0
            return [f.result() for f in futs]

    outcomes = spine.loop.run(run())
    assert all(o.ok and o.status == "ACCEPTED" for o in outcomes)
    assert [o.sequence for o in outcomes[:1200]] == list(range(1, 1201))
    assert len(seen) == 1201
    assert spine.wait_stored(1201) == 1201
    rows = spine.query(
        "SELECT service_id, min(sequence), max(sequence), count() FROM events FINAL"
        " GROUP BY service_id ORDER BY service_id"
    )
    assert rows == [("chat", 1, 1200, 1200), ("image", 1, 1, 1)]


def test_a_bad_event_is_refused_before_it_is_spooled(spine: Spine, tmp_path: Path) -> None:
    async def run() -> None:
        async with AsyncReporter(spine.target, token="tok-acme", spool_dir=tmp_path) as r:
            r.report("chat", _gen(1))
            bad = _gen(2)
            bad.generation.user_ref = "13812345678"  # a raw phone number (Art. 11)
            with pytest.raises(InvalidEvent) as err:
                r.report("chat", bad)
            assert err.value.status == "PERSONAL_INFORMATION"
            assert err.value.field_path == "generation.user_ref"
            assert "rep-2" in str(err.value)
            with pytest.raises(InvalidEvent, match="request_model"):
                r.report_many("chat", [_gen(3), builders.generation(request_model="")])
            assert r.chain_head("chat")[0] == 1  # neither call advanced the chain
            follow = r.report("chat", _gen(4))
            await r.flush(30)
            assert (await follow).sequence == 2

    spine.loop.run(run())
    assert spine.wait_stored(2) == 2


def test_rejections_by_the_gateway_reach_the_caller(spine: Spine, tmp_path: Path) -> None:
    """An id the provider already used through another client is answered DUPLICATE (delivered)."""
    with SyncIngestClient(spine.target, token="tok-beta") as raw:
        assert raw.publish_batch(chained("dup", 1)).accepted == 1
    ev = builders.generation(request_model="m", event_id="dup-0")
    with Reporter(spine.target, token="tok-beta", spool_dir=tmp_path) as r:
        out = r.report("svc-chat", ev).result(30)
    assert (out.status, out.ok) == ("DUPLICATE", True)
    assert "dup-0" in str(out)
    assert "DUPLICATE" in str(out)


def test_a_spool_written_while_the_gateway_is_away_is_sent_on_the_next_start(
    spine: Spine, tmp_path: Path
) -> None:
    async def offline() -> tuple[int, bytes]:
        # Nothing listens on port 9: everything stays spooled.
        r = AsyncReporter("127.0.0.1:9", token="tok-gamma", spool_dir=tmp_path, max_delay_s=0.2)
        r.start()
        r.report_many("chat", [_gen(i) for i in range(300)])
        await asyncio.sleep(0.5)
        assert r.pending == 300
        head = r.chain_head("chat")
        await r.close()
        return head

    head = spine.loop.run(offline())
    assert spine.stored() == 0

    async def online() -> None:
        async with AsyncReporter(spine.target, token="tok-gamma", spool_dir=tmp_path) as r:
            assert r.pending == 300
            assert r.chain_head("chat") == head  # the chain continues where it stopped
            r.report("chat", _gen(300))
            await r.flush(60)

    spine.loop.run(online())
    assert spine.wait_stored(301) == 301
    rows = spine.query("SELECT max(sequence), count(), uniqExact(event_id) FROM events")
    assert rows == [(301, 301, 301)]
    last = spine.query("SELECT prev_hash FROM events FINAL WHERE sequence = 301")[0][0]
    assert last == head[1].hex()


def test_the_gateway_says_whom_a_credential_names_and_refuses_a_wrong_one(
    spine: Spine, tmp_path: Path
) -> None:
    with SyncIngestClient(spine.target, token=TOKENS["beta-ai"]) as raw:
        session = raw.session()
    assert (session.provider_id, list(session.schema_versions)) == ("beta-ai", [1])
    assert session.rate_per_s > 0
    assert session.burst > 0
    assert session.max_event_bytes == 64 * 1024
    assert session.max_streams > 0
    with pytest.raises(AuthenticationFailed) as err:
        Reporter(spine.target, token="tok-nobody", spool_dir=tmp_path)
    said = f"the gateway at {spine.target} refused the credential (UNAUTHENTICATED"
    assert said in str(err.value)
    # the spool is free again, and a right token reports through it
    with Reporter(spine.target, token=TOKENS["gamma-ai"], spool_dir=tmp_path) as r:
        assert r.session is not None
        assert r.session.provider_id == "gamma-ai"
