"""`jianguan status` (runtime.status): read from the record `up` keeps and from what runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from jianguan.runtime.status import (
    ServiceRecord,
    UpRecord,
    as_json,
    lags,
    last_errors,
    read_status,
    remove_record,
    render,
    write_record,
)

METRICS = """# HELP jianguan_store_lag_records lag
# TYPE jianguan_store_lag_records gauge
jianguan_store_lag_records{partition="0"} 3.0
jianguan_store_lag_records{partition="1"} 4.0
# HELP jianguan_rules_events_lag_records lag
# TYPE jianguan_rules_events_lag_records gauge
jianguan_rules_events_lag_records{partition="0"} 0.0
# HELP other_total x
# TYPE other_total counter
other_total 5.0
"""


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_lags_are_summed_over_partitions() -> None:
    assert lags(METRICS) == {"store lag (records)": 7.0, "rules lag (records)": 0.0}


def test_the_last_errors_of_a_log(tmp_path: Path) -> None:
    log = tmp_path / "store.log"
    lines = [f"2026-12-04 10:00:0{i} INFO x: fine {i}" for i in range(5)]
    lines += [f"2026-12-04 10:00:1{i} ERROR x: broke {i}" for i in range(5)]
    lines += ["Traceback (most recent call last):", "2026-12-04 10:00:20 INFO x: fine"]
    log.write_text("\n".join(lines))
    assert last_errors(log) == [
        "2026-12-04 10:00:13 ERROR x: broke 3",
        "2026-12-04 10:00:14 ERROR x: broke 4",
        "Traceback (most recent call last):",
    ]
    assert last_errors(tmp_path / "missing.log") == []


def test_status_of_a_running_up_and_of_none(tmp_path: Path) -> None:
    assert not read_status(tmp_path).up
    assert render(read_status(tmp_path)).startswith("jianguan is not running")
    dead = _dead_pid()
    (tmp_path / "gateway.log").write_text("2026-12-04 10:00:00 ERROR gw: refused\n")
    record = UpRecord(
        os.getpid(),  # this test stands for `up`
        time.time(),
        str(tmp_path),
        {
            "gateway": ServiceRecord(os.getpid(), str(tmp_path / "gateway.log")),
            "store": ServiceRecord(dead, str(tmp_path / "store.log"), restarts=2),
        },
        {"kafka": "127.0.0.1:1"},  # nothing listens there
    )
    write_record(tmp_path, record)
    status = read_status(tmp_path)
    assert status.up
    assert not status.healthy
    assert status.servers == {"kafka": False}
    assert [(s.name, s.running, s.restarts) for s in status.services] == [
        ("gateway", True, 0),
        ("store", False, 2),
    ]
    text = render(status)
    assert "kafka        NOT REACHABLE" in text
    assert f"store        pid {dead:<8} NOT RUNNING, restarted 2x" in text
    assert "  gateway: 2026-12-04 10:00:00 ERROR gw: refused" in text
    assert json.loads(as_json(status))["healthy"] is False
    remove_record(tmp_path)
    assert not read_status(tmp_path).up


def test_a_record_left_by_an_up_that_died_is_not_up(tmp_path: Path) -> None:
    record = UpRecord(_dead_pid(), time.time(), str(tmp_path), {})
    write_record(tmp_path, record)
    assert not read_status(tmp_path).up


def test_a_lag_no_service_set_is_not_shown() -> None:
    declared_only = (
        "# HELP jianguan_store_lag_records lag\n# TYPE jianguan_store_lag_records gauge\n"
    )
    assert lags(declared_only) == {}
