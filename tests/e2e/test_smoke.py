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
