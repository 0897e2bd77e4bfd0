"""Streams: each process reporting for a service keeps a chain of its own, so replicas never
fork one chain; a spool written before streams resumes its chains."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from events import generation
from fake_gateway import TOKEN, FakeGateway
from jianguan_sdk import Chain, event_hash
from jianguan_sdk.reporter import AsyncReporter
from jianguan_sdk.spool import Spool

FAST = {"base_delay_s": 0.001, "max_delay_s": 0.01}


def test_replicas_of_a_service_report_chains_of_their_own(tmp_path: Path) -> None:
    async def run() -> FakeGateway:
        gateway = FakeGateway()
        target = await gateway.start()
        try:
            async with (
                AsyncReporter(
                    target, token=TOKEN, spool_dir=tmp_path / "a", stream_id="pod-a", **FAST
                ) as a,
                AsyncReporter(
                    target, token=TOKEN, spool_dir=tmp_path / "b", stream_id="pod-b", **FAST
                ) as b,
            ):
                from_a = a.report_many("chat", [generation(f"a{i}") for i in range(10)])
                from_b = b.report_many("chat", [generation(f"b{i}") for i in range(7)])
                await asyncio.gather(a.flush(30), b.flush(30))
                outcomes = [await f for f in from_a + from_b]
                assert [(o.stream_id, o.sequence) for o in outcomes] == [
                    *(("pod-a", n) for n in range(1, 11)),
                    *(("pod-b", n) for n in range(1, 8)),
                ]
                assert str(outcomes[0]).startswith("chat@pod-a #1 (a0): ACCEPTED")
                assert a.chain_head("chat")[0] == 10
                assert b.chain_head("chat")[0] == 7
            return gateway
        finally:
            await gateway.stop()

    gateway = asyncio.run(run())
    by_stream: dict[str, list[int]] = {}
    for ev in gateway.stored.values():
        by_stream.setdefault(ev.envelope.stream_id, []).append(ev.envelope.sequence)
    assert {s: sorted(q) for s, q in by_stream.items()} == {
        "pod-a": list(range(1, 11)),
        "pod-b": list(range(1, 8)),
    }


def test_a_stream_id_must_be_an_identifier(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="stream_id 'pod a'"):
        AsyncReporter("127.0.0.1:9", spool_dir=tmp_path, stream_id="pod a")
    with pytest.raises(ValueError, match="at most 64"):
        AsyncReporter("127.0.0.1:9", spool_dir=tmp_path, stream_id="p" * 65)


def test_a_spool_written_before_streams_resumes_its_chains(tmp_path: Path) -> None:
    """Its snapshot names each service's head ({service: [sequence, hash]})."""
    chain = Chain("chat")
    sealed = [chain.seal(generation(f"e{i}")) for i in range(3)]
    old = json.dumps({"chat": [2, event_hash(sealed[1]).hex()], "image": [5, "ab" * 32]}).encode()
    spool = Spool(tmp_path, lambda: old)
    spool.append([sealed[2].SerializeToString()])
    spool.close()
    reporter = AsyncReporter("127.0.0.1:9", spool_dir=tmp_path)
    try:
        assert reporter.chain_head("chat") == (3, event_hash(sealed[2]))  # its spooled record
        assert reporter.chain_head("image") == (5, b"\xab" * 32)  # the snapshot alone
    finally:
        asyncio.run(reporter.close())
