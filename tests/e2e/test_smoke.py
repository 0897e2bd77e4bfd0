"""`jianguan demo --smoke` as a user runs it: a real process that starts and stops everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_smoke_stores_every_event_and_exits_zero(tmp_path: Path) -> None:
    env = {**os.environ, "JIANGUAN_STATE_DIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "jianguan.cli", "demo", "--smoke", "--events", "3000"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["sent"] == result["accepted"] == result["stored"] == 3000
    assert result["seconds"] > 0
    leftovers = subprocess.run(
        ["/usr/bin/pgrep", "-f", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert leftovers.stdout.strip() == "", "a child process outlived the smoke run"


def test_smoke_against_existing_servers(broker, clickhouse, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--kafka and --clickhouse use the given servers: nothing embedded is started."""
    import uuid

    from jianguan.store.executor import ServerExecutor

    database = f"ext_{uuid.uuid4().hex[:10]}"
    url = clickhouse.url("writer", database)
    env = {
        **os.environ,
        "JIANGUAN_STATE_DIR": str(tmp_path),
        "JIANGUAN_TOPIC_NAMESPACE": f"ext{uuid.uuid4().hex[:8]}",
    }
    proc = subprocess.run(
        [
            sys.executable, "-m", "jianguan.cli", "demo", "--smoke", "--events", "1500",
            "--kafka", broker.bootstrap, "--clickhouse", url.secret_url(),
        ],
        capture_output=True, text=True, timeout=180, env=env, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1])["stored"] == 1500
    ex = ServerExecutor(url)
    try:
        assert ex.execute("SELECT count(), uniqExact(event_id) FROM events") == [(1500, 1500)]
    finally:
        ex.close()
    # The projections the smoke left behind are exactly what a replay of its events gives.
    verify = subprocess.run(
        [sys.executable, "-m", "jianguan.cli", "replay", "--verify", "--grace", "0",
         "--clickhouse", url.secret_url()],
        capture_output=True, text=True, timeout=180, env=env, check=False,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout[-3000:] + verify.stderr[-2000:]
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        assert f"{env['JIANGUAN_TOPIC_NAMESPACE']}.jg.events.v1" in admin.list_topics()
    finally:
        admin.close()
