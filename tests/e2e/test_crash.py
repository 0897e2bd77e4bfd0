"""Killing a service process loses nothing and double-counts nothing."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jianguan.accounts.registry import Provider, ProviderRegistry, token_digest
from jianguan.runtime.launcher import RunningUp, launched_up
from jianguan.simulator.sender import Tally, stream_provider
from jianguan.simulator.traffic import ProviderTraffic
from jianguan.store.executor import ServerExecutor

pytestmark = pytest.mark.integration
TOKEN = "crash-test-token"


def _stored(up: RunningUp) -> int:
    ex = ServerExecutor(up.writer_url)
    try:
        return int(ex.execute("SELECT count() FROM events")[0][0])  # raw rows
    finally:
        ex.close()


def _metrics_showing(url: str, text: str, timeout_s: float) -> str:
    """The metrics page at ``url`` once it shows ``text`` (the last one read at the timeout)."""
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while True:
        page = urllib.request.urlopen(url, timeout=10).read().decode()  # noqa: S310
        if text in page or time.monotonic() > deadline:
            return page
        time.sleep(0.2)


@pytest.fixture
def up(tmp_path: Path) -> Iterator[RunningUp]:
    registry = ProviderRegistry(
        [Provider("crash-ai", "Crash AI", token_sha256=token_digest(TOKEN))]
    )
    with launched_up(tmp_path, registry) as running:
        assert set(running.pids) == {
            "gateway",
            "processors",
            "store",
            "alerting",
            "console",
        }, running.banner
        yield running
    assert running.proc.returncode == 0


@pytest.mark.parametrize("victim", ["store", "processors"])
def test_a_service_killed_mid_stream_loses_and_duplicates_nothing(
    up: RunningUp, victim: str
) -> None:
    """The store (the event-store sink: no flush, no commit) or the processors (rules,
    inbound validation) die while events stream in; the supervisor restarts them."""
    tally = Tally()
    total = 30_000

    def send() -> None:
        src = ProviderTraffic("crash-ai", ("svc-1", "svc-2"), seed=11)
        asyncio.run(stream_provider(up.gateway, TOKEN, src, total, 200, tally, rate_per_s=6000))

    sender = threading.Thread(target=send)
    sender.start()
    deadline = time.monotonic() + 60
    while _stored(up) < 3000 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _stored(up) >= 3000, "the sink never started storing"
    killed = up.pids[victim]
    os.kill(killed, signal.SIGKILL)
    sender.join(120)
    assert tally.sent == tally.accepted == total, tally.rejected
    deadline = time.monotonic() + 90
    while _stored(up) < total and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _stored(up) == total
    ex = ServerExecutor(up.writer_url)
    try:
        rows = ex.execute("SELECT count(), uniqExact(event_id) FROM events")
    finally:
        ex.close()
    assert rows == [(total, total)]
    # `jianguan status` says so: every service running again, the victim restarted once.
    deadline = time.monotonic() + 60
    while True:
        status = _status(up)
        again = next(s for s in status["services"] if s["name"] == victim)
        if (status["healthy"] and again["restarts"] == 1) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status["healthy"], status
    assert again["restarts"] == 1
    assert again["pid"] != killed
    assert {s["name"] for s in status["services"]} == set(up.pids)
    assert status["servers"] == {"kafka": True, "clickhouse": True}


def _status(up: RunningUp) -> dict[str, Any]:
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "jianguan.cli", "status", "--json"],
        env={**os.environ, "JIANGUAN_STATE_DIR": str(up.state_dir)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stdout + done.stderr
    status: dict[str, Any] = json.loads(done.stdout)
    return status


def test_kafka_inbound_runs_in_the_processors_process(up: RunningUp, tmp_path: Path) -> None:
    """`jianguan up` creates the provider's inbound/feedback topics and ACLs;
    `providers kafka-credential` issues its SCRAM password on the running broker; the provider
    writes through the SASL listener and the processors process validates its records."""
    import subprocess
    import sys

    from jianguan.contracts import pb
    from jianguan_sdk.kafka_client import KafkaIngestClient
    from tests.helpers import chained

    issued = subprocess.run(
        [sys.executable, "-m", "jianguan.cli", "providers", "kafka-credential", "crash-ai"],
        env={**os.environ, "JIANGUAN_STATE_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = re.search(
        r"direct Kafka ingest: (\S+) \(SASL_PLAINTEXT, SCRAM-SHA-512\)", issued.stdout
    )
    assert found is not None, issued.stdout + issued.stderr
    password = issued.stdout.strip().splitlines()[-1]
    provider_listener = re.search(r"kafka for providers \(SASL/SCRAM-SHA-512\)\s+(\S+)", up.banner)
    assert provider_listener is not None
    assert provider_listener.group(1) == found.group(1)
    security = {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "crash-ai",
        "sasl_plain_password": password,
    }

    async def send() -> pb.BatchAck:
        async with KafkaIngestClient(found.group(1), "crash-ai", security=security) as client:
            return await client.publish_batch(chained("via-kafka", 40))

    ack = asyncio.run(asyncio.wait_for(send(), 120))
    assert (ack.received, ack.accepted) == (40, 40)
    deadline = time.monotonic() + 60
    while _stored(up) < 40 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _stored(up) == 40
    # The service processes expose their metrics, labelled by ingest path.
    import urllib.request

    urls = dict(re.findall(r"(gateway|processors|store) metrics\s+(\S+)", up.banner))
    processors = urllib.request.urlopen(urls["processors"], timeout=10).read().decode()  # noqa: S310
    assert (
        'jianguan_ingest_items_total{path="kafka",provider="crash-ai",status="ACCEPTED"} 40.0'
        in processors
    )
    assert 'jianguan_ingest_event_age_seconds_count{path="kafka"} 1.0' in processors
    # counted once the insert returned, a moment after its rows became visible: wait for it
    written = 'jianguan_store_rows_written_total{table="events"}'
    assert written in _metrics_showing(urls["store"], written, 30)
    gateway = urllib.request.urlopen(urls["gateway"], timeout=10).read().decode()  # noqa: S310
    assert "jianguan_gateway_auth_failures_total" in gateway
    # The rules read the provider's partition of the log to its end: position and lag shown.
    from jianguan.contracts import topics
    from jianguan.processors.rebuild import partition_of

    label = f'{{partition="{partition_of("crash-ai", topics.PARTITIONS)}"}}'
    caught_up = f"jianguan_rules_events_lag_records{label} 0.0"
    processors = _metrics_showing(urls["processors"], caught_up, 60)
    assert caught_up in processors
    position = re.search(rf"jianguan_rules_events_position{re.escape(label)} (\S+)", processors)
    assert position is not None
    assert float(position.group(1)) >= 1


def test_the_console_process_holds_no_writer_password(up: RunningUp) -> None:
    """The console reads as the read-only user; the writer's password is not in its environment
    (the processes that write have it)."""
    console = Path(f"/proc/{up.pids['console']}/environ").read_bytes()
    store = Path(f"/proc/{up.pids['store']}/environ").read_bytes()
    assert up.writer_url.password.encode() in store  # the check can see a password
    assert up.writer_url.password.encode() not in console
    assert b"JIANGUAN_CONSOLE_CLICKHOUSE_URL=clickhouse://dashboard:" in console
