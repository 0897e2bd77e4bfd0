"""Killing a service process loses nothing and double-counts nothing."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from jianguan.ingest.registry import Provider, ProviderRegistry, token_digest
from jianguan.runtime.process import free_port
from jianguan.simulator.sender import Tally, stream_provider
from jianguan.simulator.traffic import ProviderTraffic
from jianguan.store.executor import ClickHouseUrl, ServerExecutor

pytestmark = pytest.mark.integration
TOKEN = "crash-test-token"


@dataclass
class Up:
    proc: subprocess.Popen[str]
    target: str
    pids: dict[str, int]
    url: ClickHouseUrl

    def stored(self) -> int:
        ex = ServerExecutor(self.url)
        try:
            return int(ex.execute("SELECT count() FROM events FINAL")[0][0])
        finally:
            ex.close()


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    registry = ProviderRegistry(
        [Provider("crash-ai", "Crash AI", token_sha256=token_digest(TOKEN))]
    )
    (tmp_path / "providers.toml").write_text(registry.dump())
    port = free_port()
    env = {
        **os.environ,
        "JIANGUAN_STATE_DIR": str(tmp_path),
        "JIANGUAN_GATEWAY_PORT": str(port),
        "JIANGUAN_METRICS_PORT": str(free_port()),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "jianguan.cli", "up"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        text = ""
        for line in proc.stdout:
            text += line
            if "Ctrl-C" in line:
                break
        pids = {name: int(pid) for name, pid in re.findall(r"(\w+) pid (\d+)", text)}
        m = re.search(r"clickhouse://writer@([\d.]+):(\d+)/(\w+)", text)
        assert m is not None, text
        assert set(pids) == {"gateway", "processors"}, text
        password = json.loads((tmp_path / "clickhouse" / "credentials.json").read_text())["writer"]
        url = ClickHouseUrl(m.group(1), int(m.group(2)), "writer", password, m.group(3))
        yield Up(proc, f"127.0.0.1:{port}", pids, url)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0


def test_processors_killed_mid_stream_lose_and_duplicate_nothing(up: Up) -> None:
    tally = Tally()
    total = 30_000

    def send() -> None:
        src = ProviderTraffic("crash-ai", ("svc-1", "svc-2"), seed=11)
        asyncio.run(stream_provider(up.target, TOKEN, src, total, 200, tally, rate_per_s=6000))

    sender = threading.Thread(target=send)
    sender.start()
    deadline = time.monotonic() + 60
    while up.stored() < 3000 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert up.stored() >= 3000, "the sink never started storing"
    os.kill(up.pids["processors"], signal.SIGKILL)  # no flush, no commit
    sender.join(120)
    assert tally.sent == tally.accepted == total, tally.rejected
    deadline = time.monotonic() + 90
    while up.stored() < total and time.monotonic() < deadline:
        time.sleep(0.2)
    assert up.stored() == total
    ex = ServerExecutor(up.url)
    try:
        rows = ex.execute("SELECT count(), uniqExact(event_id) FROM events FINAL")
    finally:
        ex.close()
    assert rows == [(total, total)]
