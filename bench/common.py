"""What the benchmarks share: providers without a rate limit, the Publish stream, the events
that open an Art. 14 ¶1 case, CPU and RSS accounting of a process tree, latency quantiles, and
writing a result as JSON to bench/results/<name>-<timestamp>.json."""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import grpc

from jianguan.accounts.registry import Provider, token_digest
from jianguan.contracts import pb
from jianguan.contracts.observed import observed
from jianguan.domain.cases import OPEN
from jianguan.domain.rules.sla import IllegalContent


def unlimited(tokens: dict[str, str]) -> list[Provider]:
    """Providers with these tokens and no rate limit (the benchmarks measure the platform)."""
    return [
        Provider(p, p, token_sha256=token_digest(t), rate_per_s=1e9, burst=1e9)
        for p, t in tokens.items()
    ]


def publish(channel: grpc.aio.Channel) -> Any:
    """The gateway's Publish stream, taking pre-encoded EventBatches and giving BatchAcks."""
    return channel.stream_stream(
        "/jianguan.v1.IngestService/Publish",
        request_serializer=None,
        response_deserializer=pb.BatchAck.FromString,
    )


def opening_hits(events: list[pb.event_pb2.Event], provider: str) -> list[tuple[str, float]]:
    """(event id, event time) of the events that open an Art. 14 ¶1 case."""
    rule = IllegalContent()
    out = []
    for ev in events:
        seen = observed(ev, provider)
        if seen is not None and any(g.role == OPEN for _, g in rule.route(seen)):
            out.append((seen.event_id, seen.at))
    return out


_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _proc_stat(pid: int) -> tuple[str, int, float, int] | None:
    """(command name, parent pid, CPU seconds used, resident bytes) of a live process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return (
        name,
        int(fields[1]),
        (int(fields[11]) + int(fields[12])) / _TICKS,
        int(fields[21]) * _PAGE,
    )


def usage_by_process(root: int, labels: dict[int, str]) -> dict[str, tuple[float, int]]:
    """(CPU seconds, resident bytes) of ``root`` and its descendants, summed by label (or
    command name; the broker's JVM is "kafka")."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _proc_stat(int(entry.name))
            if st is not None:
                stats[int(entry.name)] = st
    children: dict[int, list[int]] = {}
    for pid, (_, parent, _, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    out: dict[str, tuple[float, int]] = {}
    todo = [root] if root in stats else []
    while todo:
        pid = todo.pop()
        name, _, cpu, rss = stats[pid]
        label = labels.get(pid, "kafka" if name == "java" else name)
        was = out.get(label, (0.0, 0))
        out[label] = (was[0] + cpu, was[1] + rss)
        todo += children.get(pid, [])
    return out


def cpu_by_process(root: int, labels: dict[int, str]) -> dict[str, float]:
    """CPU seconds of ``root`` and its descendants, keyed by label (or command name)."""
    return {k: cpu for k, (cpu, _) in usage_by_process(root, labels).items()}


def quantiles(samples: list[float]) -> dict[str, float]:
    """n, p50, p99 and max of durations in seconds, in milliseconds."""
    if len(samples) < 2:
        return {"n": len(samples)}
    cuts = statistics.quantiles(sorted(samples), n=100, method="inclusive")
    return {
        "n": len(samples),
        "p50_ms": round(cuts[49] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
        "max_ms": round(max(samples) * 1000, 2),
    }


def write_result(name: str, result: dict[str, Any]) -> Path:
    """Print ``result`` and write it to bench/results/<name>-<timestamp>.json."""
    out = Path(__file__).parent / "results" / f"{name}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written to {out}")
    return out
