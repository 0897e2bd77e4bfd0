"""What `jianguan status` says of a running `jianguan up`: the record `up` keeps in the state
directory (``up.json``: its pid, its servers, and each service's pid, restarts, log and metrics),
and what is read live beside it (each process alive, each server reachable, the lags from the
services' metrics, the last errors of their logs)."""

from __future__ import annotations

import contextlib
import json
import os
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from jianguan.accounts.toml_file import write_atomically
from jianguan.runtime.process import port_open

RECORD = "up.json"
# The metrics that say how far behind a service is, summed over their partitions.
LAGS = {
    "jianguan_store_lag_records": "store lag (records)",
    "jianguan_rules_events_lag_records": "rules lag (records)",
}
ERROR_MARKS = (" ERROR ", " CRITICAL ", "Traceback (most recent call last)")


@dataclass
class ServiceRecord:
    pid: int
    log: str
    metrics: str = ""
    restarts: int = 0
    out: str = ""  # what it printed outside its log (a crash's traceback)


@dataclass
class UpRecord:
    pid: int
    started_at: float
    state_dir: str
    services: dict[str, ServiceRecord]
    # Servers as host:port, checked by connecting: what `status` says is reachable.
    servers: dict[str, str] = field(default_factory=dict)


def write_record(state_dir: Path, record: UpRecord) -> None:
    write_atomically(state_dir / RECORD, json.dumps(asdict(record), indent=1))


def remove_record(state_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (state_dir / RECORD).unlink()


def read_record(state_dir: Path) -> UpRecord | None:
    try:
        data = json.loads((state_dir / RECORD).read_text(encoding="utf-8"))
        services = {k: ServiceRecord(**v) for k, v in data.pop("services").items()}
        return UpRecord(services=services, **data)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reachable(address: str) -> bool:
    """``host:port[,host:port…]``: any of them accepts a connection."""
    for one in address.split(","):
        host, _, port = one.strip().rpartition(":")
        if port.isdigit() and port_open(host or "127.0.0.1", int(port)):
            return True
    return False


def lags(metrics_text: str) -> dict[str, float]:
    """The lag gauges of a metrics page, each summed over its partitions."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.name in LAGS and family.samples:  # declared by every service, set by one
            out[LAGS[family.name]] = sum(s.value for s in family.samples)
    return out


def scrape(url: str, timeout_s: float = 2.0) -> str | None:
    if not url.startswith("http://127.0.0.1:"):
        return None  # only the loopback endpoints `up` started
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310
            return str(response.read().decode("utf-8", "replace"))
    except OSError:
        return None


def last_errors(log: Path, most: int = 3, tail_bytes: int = 256 * 1024) -> list[str]:
    """The last ``most`` error lines of a log (its last ``tail_bytes`` read)."""
    try:
        with log.open("rb") as f:
            f.seek(max(0, log.stat().st_size - tail_bytes))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    found = [line.strip() for line in text.splitlines() if any(m in line for m in ERROR_MARKS)]
    return found[-most:]


@dataclass
class ServiceStatus:
    name: str
    pid: int
    running: bool
    restarts: int
    lags: dict[str, float]
    errors: list[str]


@dataclass
class Status:
    up: bool
    pid: int = 0
    since: float = 0.0
    state_dir: str = ""
    servers: dict[str, bool] = field(default_factory=dict)
    services: list[ServiceStatus] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.up and all(self.servers.values()) and all(s.running for s in self.services)


def read_status(state_dir: Path) -> Status:
    record = read_record(state_dir)
    if record is None or not alive(record.pid):
        return Status(up=False, state_dir=str(state_dir))
    status = Status(True, record.pid, record.started_at, record.state_dir)
    status.servers = {name: reachable(addr) for name, addr in record.servers.items()}
    for name, svc in record.services.items():
        page = scrape(svc.metrics) if svc.metrics else None
        status.services.append(
            ServiceStatus(
                name,
                svc.pid,
                alive(svc.pid),
                svc.restarts,
                lags(page) if page else {},
                last_errors(Path(svc.log)) + (last_errors(Path(svc.out)) if svc.out else []),
            )
        )
    return status


def render(status: Status) -> str:
    if not status.up:
        return f"jianguan is not running (state directory {status.state_dir})"
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(status.since))
    lines = [f"jianguan is up since {since} (pid {status.pid}, state {status.state_dir})"]
    for name, ok in status.servers.items():
        lines.append(f"  {name:12} {'reachable' if ok else 'NOT REACHABLE'}")
    for s in status.services:
        state = "running" if s.running else "NOT RUNNING"
        extra = "".join(f", {k} {v:.0f}" for k, v in sorted(s.lags.items()))
        restarts = f", restarted {s.restarts}x" if s.restarts else ""
        lines.append(f"  {s.name:12} pid {s.pid:<8} {state}{restarts}{extra}")
    errors = [(s.name, e) for s in status.services for e in s.errors]
    if errors:
        lines.append("last errors:")
        lines += [f"  {name}: {line}" for name, line in errors]
    return "\n".join(lines)


def as_json(status: Status) -> str:
    return json.dumps(asdict(status) | {"healthy": status.healthy}, indent=1)
