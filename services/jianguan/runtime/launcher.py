"""`jianguan up` as a child process, for benchmarks, end-to-end tests and scripts: start it with a
provider registry, learn its endpoints from what it prints, stop it with SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from jianguan.accounts.registry import ProviderRegistry
from jianguan.runtime.clickhouse import running_embedded
from jianguan.runtime.process import dying_with_me, free_port
from jianguan.store.executor import ClickHouseUrl


@dataclass
class RunningUp:
    proc: subprocess.Popen[str]
    gateway: str
    pids: dict[str, int]
    writer_url: ClickHouseUrl
    banner: str
    state_dir: Path


@contextmanager
def launched_up(
    state_dir: Path,
    registry: ProviderRegistry,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    clickhouse: ClickHouseUrl | None = None,
) -> Iterator[RunningUp]:
    """Run `jianguan up` on an embedded broker, and an embedded ClickHouse under ``state_dir``
    or ``clickhouse`` (a server or a cluster it does not start); always stopped (SIGTERM, then
    SIGKILL after 90 s) when the block ends."""
    if clickhouse is not None:
        args = (*args, "--clickhouse", clickhouse.secret_url())
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "providers.toml").write_text(registry.dump(), encoding="utf-8")
    port = int((env or {}).get("JIANGUAN_GATEWAY_PORT") or free_port())
    child_env = {
        **os.environ,
        "JIANGUAN_STATE_DIR": str(state_dir),
        "JIANGUAN_GATEWAY_PORT": str(port),
        "JIANGUAN_METRICS_PORT": "0",  # any free ports, one per service
        "JIANGUAN_CONSOLE_PORT": "0",
        "JIANGUAN_FAUST_WEB_PORT": "0",
        **(env or {}),
    }
    proc = subprocess.Popen(
        # a test run killed outright leaves no platform behind
        dying_with_me([sys.executable, "-m", "jianguan.cli", "up", *args]),
        env=child_env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = ""
        for line in proc.stdout:
            banner += line
            if "Ctrl-C" in line:
                break
        m = re.search(r"clickhouse://writer@[\d.]+:\d+/(\w+)", banner)
        if m is None:
            raise RuntimeError(f"jianguan up did not start:\n{banner}")
        if clickhouse is None:
            clickhouse = running_embedded(state_dir / "clickhouse", m.group(1))
            if clickhouse is None:
                raise RuntimeError(f"jianguan up's ClickHouse does not answer:\n{banner}")
        yield RunningUp(
            proc,
            f"127.0.0.1:{port}",
            {name: int(pid) for name, pid in re.findall(r"([\w-]+) pid (\d+)", banner)},
            clickhouse,
            banner,
            state_dir,
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
