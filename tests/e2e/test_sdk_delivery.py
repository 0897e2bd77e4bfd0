"""The SDK's promise under failure, on the real stack (`jianguan up`): a gateway killed and
restarted mid-stream, and a provider process killed with events still in its spool. Every event
the SDK took arrives exactly once and, per service, in sequence order."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jianguan.accounts.registry import Provider, ProviderRegistry, token_digest
from jianguan.runtime.launcher import RunningUp, launched_up
from jianguan.runtime.process import port_open
from jianguan_sdk import builders
from jianguan_sdk.outcome import Outcome
from jianguan_sdk.reporter import AsyncReporter
from tests.e2e.running import query

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningUp]:
    registry = ProviderRegistry(
        [
            Provider("steady-ai", "Steady AI", token_sha256=token_digest("tok-steady")),
            # Slow enough that a spool is still full when its process is killed.
            Provider(
                "slow-ai",
                "Slow AI",
                token_sha256=token_digest("tok-slow"),
                rate_per_s=1500.0,
                burst=1500.0,
            ),
        ]
    )
    with launched_up(tmp_path_factory.mktemp("up"), registry) as running:
        yield running


def _stored(up: RunningUp, provider: str) -> int:
    """Distinct events of ``provider`` in the raw rows."""
    sql = "SELECT uniqExact(event_id) FROM events WHERE provider_id = %(p)s"
    return int(query(up, sql, {"p": provider})[0][0])


def _wait_stored(up: RunningUp, provider: str, n: int, timeout: float = 90) -> int:
    deadline = time.monotonic() + timeout
    while _stored(up, provider) < n and time.monotonic() < deadline:
        time.sleep(0.2)
    return _stored(up, provider)


def assert_exactly_once_in_order(up: RunningUp, provider: str, per_service: dict[str, int]) -> None:
    assert _wait_stored(up, provider, sum(per_service.values())) == sum(per_service.values())
    # Raw rows: every event stored (none lost, the chain without a gap), and no record of the
    # log written twice. An event may have a second copy: a resend after an answer the kill
    # lost reaches a new gateway, whose duplicate memory is still filling from the store, as a
    # record of its own (``ingest.warm_start``); regulators' views count it once.
    rows = query(
        up,
        "SELECT service_id, uniqExact(event_id), uniqExact(sequence), min(sequence),"
        " max(sequence), count() = uniqExact(kafka_partition, kafka_offset, event_id)"
        " FROM events WHERE provider_id = %(p)s GROUP BY service_id ORDER BY service_id",
        {"p": provider},
    )
    assert rows == [(s, n, n, 1, n, 1) for s, n in sorted(per_service.items())]
    unique = query(
        up,
        "SELECT service_id, count() FROM events_unique WHERE provider_id = %(p)s"
        " GROUP BY service_id ORDER BY service_id",
        {"p": provider},
    )
    assert unique == sorted(per_service.items())
    # Arrival order: the first copy of each event in the log (a resend after a lost answer may
    # add a later copy, which the store collapses) comes in sequence order.
    first = query(
        up,
        "SELECT service_id, sequence, min((kafka_partition, kafka_offset)) FROM events"
        " WHERE provider_id = %(p)s GROUP BY service_id, sequence ORDER BY service_id, sequence",
        {"p": provider},
    )
    for service in per_service:
        arrivals = [pos for s, _, pos in first if s == service]
        assert arrivals == sorted(arrivals), f"{service} arrived out of order"


def test_gateway_killed_mid_stream_loses_and_duplicates_nothing(
    up: RunningUp, tmp_path: Path
) -> None:
    total, outcomes = 24_000, []
    host, port = up.gateway.split(":")

    async def report() -> None:
        async with AsyncReporter(
            up.gateway, token="tok-steady", spool_dir=tmp_path, batch_size=200
        ) as r:
            for i in range(0, total, 200):
                evs = [
                    builders.generation(request_model="m", event_id=f"gk-{j}")
                    for j in range(i, i + 200)
                ]
                outcomes.extend(r.report_many("svc-a" if i % 400 == 0 else "svc-b", evs))
                await asyncio.sleep(0.05)  # ~4k events/s: the kill lands mid-stream
            await r.flush(180)

    sender = threading.Thread(target=lambda: asyncio.run(report()))
    sender.start()
    deadline = time.monotonic() + 60
    while sum(f.done() for f in list(outcomes)) < 3000 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(up.pids["gateway"], signal.SIGKILL)
    reported_at_kill = len(outcomes)
    deadline = time.monotonic() + 60
    while port_open(host, int(port)) and time.monotonic() < deadline:
        time.sleep(0.05)
    sender.join(240)
    assert not sender.is_alive()
    assert reported_at_kill < total, "the gateway died after everything was sent: nothing tested"
    done: list[Outcome] = [f.result() for f in outcomes]
    assert all(o.ok for o in done)
    assert_exactly_once_in_order(up, "steady-ai", {"svc-a": total // 2, "svc-b": total // 2})


def test_provider_process_killed_with_a_full_spool_loses_nothing(
    up: RunningUp, tmp_path: Path
) -> None:
    total = 6_000
    spool = tmp_path / "spool"

    def client(mode: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "tests/e2e/spool_client.py"),
                mode,
                up.gateway,
                "tok-slow",
                str(spool),
                str(total),
            ],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )

    first = client("report")
    try:
        assert first.stdout is not None
        assert json.loads(first.stdout.readline())["spooled"] == total
        assert _wait_stored(up, "slow-ai", 1000, 60) >= 1000
    finally:
        first.kill()  # SIGKILL: no flush, no goodbye
        first.wait()
    left = total - _stored(up, "slow-ai")
    assert left > 0, "the spool was empty before the kill: nothing was tested"

    second = client("resume")
    out, _ = second.communicate(timeout=240)
    assert second.returncode == 0
    assert json.loads(out.splitlines()[-1]) == {"pending": 0}
    assert_exactly_once_in_order(up, "slow-ai", {"svc-a": total // 2, "svc-b": total // 2})
