"""Transport faults never stop reporting; a refused credential stops it at once, with a message a
person can act on, and leaves no outcome unresolved."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest

from events import generation
from fake_gateway import TOKEN, FakeGateway, Fault, served
from jianguan_sdk import AuthenticationFailed
from jianguan_sdk.errors import TERMINAL_CALLS
from jianguan_sdk.outcome import Outcome
from jianguan_sdk.reporter import AsyncReporter
from jianguan_sdk.sync import Reporter

# Every status a call can fail with but those that say no retry can succeed.
TRANSPORT_FAULTS = [
    c for c in grpc.StatusCode if c != grpc.StatusCode.OK and c not in TERMINAL_CALLS
]
FAST = {"base_delay_s": 0.001, "max_delay_s": 0.01}


def _events(n: int, start: int = 0) -> list:
    return [generation(f"e{i}") for i in range(start, start + n)]


def test_every_transport_fault_is_retried_until_each_event_is_delivered_once_in_order(
    tmp_path: Path,
) -> None:
    assert grpc.StatusCode.INTERNAL in TRANSPORT_FAULTS  # a gateway killed mid-stream
    assert len(TRANSPORT_FAULTS) == 12

    async def run() -> tuple[list[Outcome], FakeGateway]:
        gateway = FakeGateway()
        # each fault once before the batch is stored and once after (the ack lost)
        gateway.faults = [Fault(c, after) for c in TRANSPORT_FAULTS for after in (False, True)]
        target = await gateway.start()
        try:
            async with AsyncReporter(
                target, token=TOKEN, spool_dir=tmp_path, batch_size=7, linger_s=0, **FAST
            ) as r:
                futures = r.report_many("chat", _events(100))
                await r.flush(60)
                assert r.pending == 0
                return [await f for f in futures], gateway
        finally:
            await gateway.stop()

    outcomes, gateway = asyncio.run(run())
    assert gateway.faults == []  # every fault was met
    assert [o.sequence for o in outcomes] == list(range(1, 101))
    assert {o.status for o in outcomes} <= {"ACCEPTED", "DUPLICATE"}
    assert sum(o.status == "DUPLICATE" for o in outcomes) > 0  # resent after a lost ack
    assert gateway.sequences("chat") == list(range(1, 101))


def test_a_gateway_that_goes_away_and_returns_gets_everything(tmp_path: Path) -> None:
    async def run() -> FakeGateway:
        first = FakeGateway()
        target = await first.start()
        async with AsyncReporter(
            target, token=TOKEN, spool_dir=tmp_path, batch_size=10, **FAST
        ) as r:
            await asyncio.gather(*r.report_many("chat", _events(20)))
            await first.stop()
            futures = r.report_many("chat", _events(30, start=20))
            second = FakeGateway(stored=dict(first.stored))
            await second.start(first.port)
            try:
                await r.flush(60)
                assert [(await f).ok for f in futures] == [True] * 30
            finally:
                await second.stop()
        return second

    gateway = asyncio.run(run())
    assert gateway.sequences("chat") == list(range(1, 51))


def test_a_refused_credential_is_raised_on_entering_and_frees_the_spool(tmp_path: Path) -> None:
    async def run() -> None:
        gateway = FakeGateway()
        target = await gateway.start()
        try:
            with pytest.raises(AuthenticationFailed) as err:
                async with AsyncReporter(target, token="tok-wrong", spool_dir=tmp_path):
                    pass
            message = str(err.value)
            assert target in message
            assert "refused the credential (UNAUTHENTICATED: unknown or revoked token)" in message
            assert "token=" in message  # says what to check
            assert (err.value.code, err.value.details) == (
                "UNAUTHENTICATED",
                "unknown or revoked token",
            )
            async with AsyncReporter(target, token=TOKEN, spool_dir=tmp_path) as r:
                assert r.session is not None
                assert r.session.provider_id == "acme-ai"
        finally:
            await gateway.stop()

    asyncio.run(run())


def test_an_unreachable_gateway_at_start_stops_nothing(tmp_path: Path) -> None:
    async def run() -> None:
        # nothing listens on port 9
        async with AsyncReporter("127.0.0.1:9", token=TOKEN, spool_dir=tmp_path, **FAST) as r:
            assert r.session is None
            r.report_many("chat", _events(5))
            assert r.pending == 5

    asyncio.run(run())


def test_a_credential_revoked_while_reporting_fails_every_waiting_outcome(tmp_path: Path) -> None:
    async def run() -> FakeGateway:
        gateway = FakeGateway(revoke_after=30)
        target = await gateway.start()
        try:
            async with AsyncReporter(
                target, token=TOKEN, spool_dir=tmp_path, batch_size=10, linger_s=0, **FAST
            ) as r:
                futures = r.report_many("chat", _events(100))
                _, waiting = await asyncio.wait(futures, timeout=30)
                assert not waiting  # none left unresolved
                ok = [f for f in futures if f.exception() is None]
                assert [f.result().sequence for f in ok] == list(range(1, 31))
                refused = [f.exception() for f in futures if f.exception() is not None]
                assert len(refused) == 70
                assert all(isinstance(e, AuthenticationFailed) for e in refused)
                with pytest.raises(AuthenticationFailed):
                    r.report("chat", generation("late"))
                with pytest.raises(AuthenticationFailed):
                    await r.flush(5)
                assert r.pending == 70  # kept for a reporter with a valid credential
            gateway.revoke_after = None
            async with AsyncReporter(target, token=TOKEN, spool_dir=tmp_path, **FAST) as r:
                await r.flush(30)
                assert r.pending == 0
            return gateway
        finally:
            await gateway.stop()

    gateway = asyncio.run(run())
    assert gateway.sequences("chat") == list(range(1, 101))


def test_the_blocking_reporter_raises_a_refusal_and_never_times_out_on_it(tmp_path: Path) -> None:
    with served(FakeGateway(revoke_after=3)) as target:
        with pytest.raises(AuthenticationFailed):
            Reporter(target, token="tok-wrong", spool_dir=tmp_path)
        with Reporter(
            target, token=TOKEN, spool_dir=tmp_path, batch_size=3, linger_s=0, **FAST
        ) as r:
            assert r.session is not None
            assert r.session.provider_id == "acme-ai"
            first = r.report_many("chat", _events(3))
            assert [f.result(timeout=30).ok for f in first] == [True] * 3
            later = r.report_many("chat", _events(3, start=3))
            for f in later:
                with pytest.raises(AuthenticationFailed):
                    f.result(timeout=30)
            with pytest.raises(AuthenticationFailed):
                r.report("chat", generation("late"))
            with pytest.raises(AuthenticationFailed):
                r.flush(5)
