"""Deadline benchmark: from a deadline passing to its alert row in ClickHouse, under load.

Through a running `jianguan up` (every rule on), four providers stream the realistic mix at a
fixed rate (``--rate``, e.g. half the measured maximum with the rules included) for
``--seconds``. Art. 14 ¶1's report deadline is set to ``--deadline`` seconds, so every unhandled
illegal output of the mix misses it during the run. A poller records when each missed-deadline
alert first appears in the `alerts` table; the latency of an alert is that instant minus the
deadline (the hit's event time plus the deadline). Writes bench/results/deadlines-<ts>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import grpc

from common import (  # bench/common.py, beside this file
    cpu_by_process,
    opening_hits,
    publish,
    quantiles,
    unlimited,
    write_result,
)
from jianguan.accounts.registry import ProviderRegistry
from jianguan.contracts import pb
from jianguan.runtime.launcher import launched_up
from jianguan.simulator.traffic import ProviderTraffic
from jianguan.store.executor import ServerExecutor

PROVIDERS = ("dl-a", "dl-b", "dl-c", "dl-d")
RULE = "ART14-ILLEGAL-CONTENT"


def schedule(
    provider: str, rate: float, seconds: float, batch: int, start: float
) -> tuple[list[tuple[float, bytes]], dict[str, float]]:
    """Pre-encoded batches of one provider with their send instants (events stamped with the
    instant they are sent), and the event time of each hit that opens an Art. 14 ¶1 case."""
    src = ProviderTraffic(provider, ("svc-1", "svc-2"), seed=7)
    every = batch / rate
    out, hits = [], {}
    for i in range(int(seconds / every)):
        at = start + i * every
        events = src.events(batch, at, service="svc-1")
        hits.update(opening_hits(events, provider))
        out.append(
            (at, pb.EventBatch(batch_id=f"{provider}-{i}", events=events).SerializeToString())
        )
    return out, hits


async def send(
    target: str, token: str, batches: list[tuple[float, bytes]], lag: list[float]
) -> int:
    """Each batch at its instant, over one stream; ``lag`` gets the most any batch left after
    its instant (its events were stamped with that instant)."""

    async def paced() -> Any:
        for at, raw in batches:
            await asyncio.sleep(max(0.0, at - time.time()))
            lag[0] = max(lag[0], time.time() - at)
            yield raw

    async with grpc.aio.insecure_channel(target) as channel:
        call = publish(channel)(paced(), metadata=(("authorization", f"Bearer {token}"),))
        accepted = 0
        async for ack in call:
            accepted += ack.accepted
        return accepted


def poll(url: Any, seen: dict[str, float], stop: threading.Event) -> None:
    """alert id → the wall-clock instant it was first visible."""
    ex = ServerExecutor(url)
    try:
        while not stop.is_set():
            rows = ex.execute(
                "SELECT alert_id FROM alerts WHERE rule_id = %(r)s AND retracted = 0",
                {"r": RULE},
            )
            now = time.time()
            for (alert_id,) in rows:
                seen.setdefault(str(alert_id), now)
            stop.wait(0.2)
    finally:
        ex.close()


def run(rate: float, seconds: float, deadline_s: float, batch: int, lead: float) -> dict[str, Any]:
    tokens = {p: f"dl-token-{p}" for p in PROVIDERS}
    registry = ProviderRegistry(unlimited(tokens))
    env = {
        "JIANGUAN_RULE_OVERRIDES": json.dumps({RULE: {"report_hours": deadline_s / 3600}}),
    }
    with (
        tempfile.TemporaryDirectory(prefix="jianguan-bench-dl-") as tmp,
        launched_up(Path(tmp), registry, env) as up,
    ):
        # Events are stamped with the instant they are to be sent, so they are encoded before:
        # the run starts ``lead`` seconds from now, after the encoding (checked).
        start = time.time() + lead
        per = rate / len(PROVIDERS)
        plans = {p: schedule(p, per, seconds, batch, start) for p in PROVIDERS}
        if time.time() > start - 1:
            raise SystemExit(f"encoding the payloads took longer than --lead {lead:.0f} s")
        seen: dict[str, float] = {}
        stop = threading.Event()
        poller = threading.Thread(target=poll, args=(up.writer_url, seen, stop))
        poller.start()
        labels = {up.proc.pid: "up (supervisor)", **{pid: n for n, pid in up.pids.items()}}
        cpu_before = cpu_by_process(up.proc.pid, labels)

        lag = [0.0]

        async def all_streams() -> list[int]:
            return await asyncio.gather(
                *(send(up.gateway, tokens[p], plans[p][0], lag) for p in PROVIDERS)
            )

        accepted = sum(asyncio.run(all_streams()))
        sent_s = time.time() - start
        cpu = cpu_by_process(up.proc.pid, labels)
        # Every case's report deadline that passed during the run must show its alert (the
        # mix's incident reports cite no hit); wait for the stragglers.
        due = {
            f"{RULE}:{p}:{eid}/DEADLINE_MISSED/report": at + deadline_s
            for p, (_, hits) in plans.items()
            for eid, at in hits.items()
        }
        ended = time.time()
        while time.time() - ended < 30 and len(set(due) & set(seen)) < len(due):
            time.sleep(0.5)
        stop.set()
        poller.join()
    latencies = [seen[a] - d for a, d in due.items() if a in seen and d <= start + seconds]
    late = quantiles([max(0.0, x) for x in latencies])
    # The same by the 10 s window the deadline fell in: a tail that is steady, or a stall.
    windows: dict[int, list[float]] = {}
    for a, d in due.items():
        if a in seen and d <= start + seconds:
            windows.setdefault(int((d - start) // 10) * 10, []).append(max(0.0, seen[a] - d))
    return {
        "rate_per_s": rate,
        "seconds": seconds,
        "events_accepted": accepted,
        "events_per_s_sent": round(accepted / sent_s),
        # how late the load generator sent a batch after the instant its events carry
        "max_send_lag_s": round(lag[0], 3),
        "deadline_s": deadline_s,
        "deadlines_passed_in_run": sum(1 for d in due.values() if d <= start + seconds),
        "alerts_seen": len(latencies),
        "deadline_to_alert_row": late,
        "deadline_to_alert_row_by_10s": {f"{w}s": quantiles(v) for w, v in sorted(windows.items())},
        "pass_p99_within_5s": bool(late.get("p99_ms", 1e9) <= 5000),
        "cpu_s_by_process": {
            k: round(v - cpu_before.get(k, 0.0), 2) for k, v in sorted(cpu.items())
        },
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rate", type=float, default=50_000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--deadline", type=float, default=10)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument(
        "--lead", type=float, help="seconds to encode the payloads in (default: by size)"
    )
    args = ap.parse_args()
    lead = args.lead or 10 + args.rate * args.seconds / 60_000
    result = {
        "benchmark": "deadlines",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cores": os.cpu_count(),
        **run(args.rate, args.seconds, args.deadline, args.batch, lead),
    }
    write_result("deadlines", result)
    return 0 if result["alerts_seen"] else 1


if __name__ == "__main__":
    sys.exit(main())
