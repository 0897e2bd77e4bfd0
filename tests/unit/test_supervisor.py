"""The supervisor restarts a dead child with growing backoff, reset after a healthy run."""

from __future__ import annotations

import time
from pathlib import Path

from jianguan.runtime.supervisor import ServiceSpec, Supervisor


def test_a_crash_loop_backs_off_and_stop_all_ends_everything(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path)
    spec = ServiceSpec("dies", ["--version-does-not-exist"], {})
    first = sup.start(spec)
    deadline = time.monotonic() + 10
    while first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.poll() is not None
    assert sup.check() == []  # noticed: waits its backoff first
    time.sleep(0.6)
    assert sup.check() == ["dies"]
    assert sup.running["dies"].restarts == 1
    assert sup.running["dies"].backoff == 1.0
    sup.stop_all()
    assert sup.running == {}
