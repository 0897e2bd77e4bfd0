"""Sustained benchmark: hours of load, not a burst.

Through one running `jianguan up` with every rule on:
1. The maximum: the ingest bench's burst (``ingest.burst``) of the run's own mix (the compliant
   providers' traffic, from providers of their own) measures events/s with the rules included,
   unless ``--rate`` is given. The ingest bench's mix asks far less of the rules (none of its
   cases close), so half of its maximum is more than the run's mix can sustain.
2. The run: ``--share`` of that maximum for ``--seconds`` (default 10 minutes), from four
   compliant providers (the simulator's ``CompliantProvider``: filed services, labelled images,
   illegal output stopped, reported and rectified, complaints and requests answered, so cases
   open and close as they would) and one violator (``ProviderTraffic``: its illegal outputs are
   never reported). Art. 14 ¶1's report deadline is set to ``--deadline`` seconds, so each of the
   violator's hits misses it during the run, and the compliant providers (who report within 20 s)
   never do. The events are generated before the load starts (one process per core, into files),
   stamped with the instant they are to be sent, so the platform does not share the machine with
   the generator; the sender keeps one gRPC stream per provider.

Measured, per minute of the run: stored events/s (the events table's row count), the rules' lag
behind the log (their metrics), freshness (a probe event acknowledged → queryable: a sixth
provider sends one every 100 ms beside the load, and its events are looked for by key every
100 ms: a figure up to 0.1 s high, but every query costs the store a few milliseconds of CPU, so
polling faster measurably loads the machine it measures), violation → alert (a missed deadline
→ its alert row), RSS and CPU of every process, and the CPU the host's hypervisor took (steal).
The pass lines are in the JSON; nothing here is a test. Writes bench/results/sustained-<ts>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import math
import multiprocessing as mp
import os
import pickle
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import grpc

from common import (  # bench/common.py, beside this file
    opening_hits,
    publish,
    quantiles,
    unlimited,
    usage_by_process,
    write_result,
)
from ingest import (
    LAG,
    burst,
    rules_gauge,
    rules_metrics,
)
from ingest import TOKENS as BURST_TOKENS
from jianguan.accounts.registry import ProviderRegistry
from jianguan.contracts import pb
from jianguan.runtime.launcher import RunningUp, launched_up
from jianguan.simulator.compliant import CompliantProvider
from jianguan.simulator.traffic import ProviderTraffic
from jianguan.store.executor import ServerExecutor
from jianguan_sdk import builders
from jianguan_sdk.chain import Chain

COMPLIANT = {
    "su-a": ("chat", "image"),
    "su-b": ("chat", "video"),
    "su-c": ("chat", "image", "kids"),
    "su-d": ("chat",),
}
VIOLATOR, VIOLATOR_SERVICE, VIOLATOR_SHARE = "su-v", "svc-v", 0.04
PROBE, PROBE_SERVICE, PROBE_EVERY_S = "su-probe", "probe", 0.1
TOKENS = {p: f"sustained-token-{p}" for p in (*COMPLIANT, VIOLATOR)}
# The maximum is measured on the run's own mix, from providers of their own.
MIX = {p.replace("su-", "mx-"): services for p, services in COMPLIANT.items()}
MIX_TOKENS = {p: f"sustained-token-{p}" for p in MIX}
PROBE_TOKEN = "sustained-token-probe"
RULE = "ART14-ILLEGAL-CONTENT"
SLOT_S = 0.1  # one batch per service of each provider every slot
LEAD_S = 3.0  # the compliant providers' filings go this long before the run


@dataclass(slots=True)
class Planned:
    """One batch: when it is to be sent, whose, and the violator's hits in it (event id, event
    time)."""

    at: float
    provider: str
    service: str
    batch_id: str
    raw: bytes
    events: int
    hits: list[tuple[str, float]] = field(default_factory=list)


def _batch(
    provider: str, service: str, n: int, events: list[pb.event_pb2.Event], at: float
) -> Planned:
    raw = pb.EventBatch(batch_id=f"{provider}-{service}-{n}", events=events).SerializeToString()
    return Planned(at, provider, service, f"{provider}-{service}-{n}", raw, len(events))


def planned(
    provider: str,
    services: tuple[str, ...] | None,
    start: float,
    seconds: float,
    rate: float,
    seed: int,
) -> Iterator[Planned]:
    """One provider's batches for ``seconds`` of event time from ``start`` at ``rate`` new
    events/s, in send order: a compliant provider (``services``: its filings first, sent
    LEAD_S before), or the violator (``services`` None)."""
    tag = f"su{seed}t{int(start)}"
    chains: dict[str, Chain] = {}

    def batches(pairs: list[tuple[str, pb.event_pb2.Event]], at: float, n: int) -> list[Planned]:
        by_service: dict[str, list[pb.event_pb2.Event]] = {}
        for service, ev in pairs:
            if services is not None:  # ProviderTraffic seals its own
                ev = chains.setdefault(service, Chain(service)).seal(ev)
            by_service.setdefault(service, []).append(ev)
        out = []
        for service, events in by_service.items():
            one = _batch(provider, service, n, events, at)
            if services is None:
                one.hits = opening_hits(events, provider)
            out.append(one)
        return out

    if services is None:
        traffic = ProviderTraffic(provider, (VIOLATOR_SERVICE,), seed=seed)

        def make(count: int, at: float) -> list[tuple[str, pb.event_pb2.Event]]:
            events = traffic.events(count, at, service=VIOLATOR_SERVICE)
            return [(VIOLATOR_SERVICE, ev) for ev in events]

    else:
        behaviour = CompliantProvider(provider, seed, tag, services)
        # What it files before serving, sent just before the run starts.
        yield from batches(behaviour.opening(start), start - LEAD_S, 0)
        make = behaviour.events
    owed, slot = 0.0, 0
    while (at := start + slot * SLOT_S) < start + seconds:
        owed += rate * SLOT_S
        count = int(owed)
        owed -= count
        pairs = make(count, at)
        if pairs:
            yield from batches(pairs, at, slot + 1)
        slot += 1


def generate(job: tuple[str, str, float, float, float, int]) -> int:
    """One provider's batches for the whole run, pickled one after another into a file;
    returns how many events. Run before the load starts, so the platform does not share the
    machine with the generator."""
    provider, path, start, seconds, rate, seed = job
    services = None if provider == VIOLATOR else COMPLIANT[provider]
    written = 0
    with open(path, "wb") as f:
        for one in planned(provider, services, start, seconds, rate, seed):
            pickle.dump(one, f, protocol=pickle.HIGHEST_PROTOCOL)
            written += one.events
    return written


def same_mix(total: int, seed: int) -> tuple[dict[str, list[bytes]], int]:
    """``total`` events of the run's compliant mix from providers of their own (MIX), for the
    maximum: their event times span the last seconds as at 20,000 events/s, so that the
    follow-ups (dispositions, reports, answers) come as they do in the run."""
    rate = 20_000 / len(MIX)
    span = total / len(MIX) / rate
    start = time.time() - span - 1
    data, events = {}, 0
    for p, services in MIX.items():
        batches = list(planned(p, services, start, span, rate, seed))
        data[p] = [b.raw for b in batches]
        events += sum(b.events for b in batches)
    return data, events


def rates(rate: float) -> dict[str, float]:
    """New events/s of each provider (follow-ups come on top)."""
    return {
        **{p: rate * (1 - VIOLATOR_SHARE) / len(COMPLIANT) for p in COMPLIANT},
        VIOLATOR: rate * VIOLATOR_SHARE,
    }


def pregenerate(folder: Path, rate: float, seconds: float, seed: int) -> tuple[float, dict]:
    """Every provider's batches, generated in parallel (one process per core) before the run,
    dated from a start instant chosen from a timed sample so that they are ready by then; the
    start and each provider's file."""
    sample = 20_000
    began = time.perf_counter()
    generate(("su-a", os.devnull, time.time(), sample / rate, rate, seed))
    per_event = time.perf_counter() - began
    workers = min(len(TOKENS), os.cpu_count() or 1)
    # The busiest worker generates ceil(providers / workers) compliant providers' events.
    busiest = math.ceil(len(TOKENS) / workers) * max(rates(rate).values())
    start = time.time() + 1.3 * per_event / sample * busiest * seconds + 15
    files = {p: folder / f"{p}.batches" for p in TOKENS}
    jobs = [(p, str(files[p]), start, seconds, r, seed) for p, r in rates(rate).items()]
    with mp.get_context("fork").Pool(workers) as pool:
        pool.map(generate, jobs, chunksize=1)
    if time.time() > start - LEAD_S - 1:
        raise SystemExit("generating the load took longer than the timed sample promised")
    return start, files


@dataclass
class Record:
    """What the sender saw: the violator's hits it sent (event id, event time), when each probe
    was acknowledged, the outcomes, and how late a batch went at worst."""

    hits: list[tuple[str, float]] = field(default_factory=list)
    probes: dict[str, float] = field(default_factory=dict)  # probe event id → acknowledged
    accepted: int = 0
    not_accepted: dict[str, int] = field(default_factory=dict)
    max_send_lag_s: float = 0.0


def _read(path: Path) -> Any:
    """The planned batches of a file, in order."""
    with open(path, "rb") as f:
        while True:
            try:
                yield pickle.load(f)  # noqa: S301 (written by this run)
            except EOFError:
                return


async def drive(target: str, files: dict[str, Path], record: Record) -> None:
    """Sends every planned batch at its instant, one stream per provider."""

    async def stream(provider: str) -> None:
        async def paced() -> Any:
            for item in _read(files[provider]):
                await asyncio.sleep(max(0.0, item.at - time.time()))
                record.max_send_lag_s = max(record.max_send_lag_s, time.time() - item.at)
                record.hits += item.hits
                yield item.raw

        async with grpc.aio.insecure_channel(target) as channel:
            call = publish(channel)(
                paced(), metadata=(("authorization", f"Bearer {TOKENS[provider]}"),)
            )
            async for ack in call:
                record.accepted += ack.accepted
                for r in ack.results:
                    name = pb.ItemStatus.Name(r.status)
                    record.not_accepted[name] = record.not_accepted.get(name, 0) + 1

    async def probe() -> None:
        """One event every PROBE_EVERY_S on its own stream, until the load ends: how long an
        event accepted now takes to be queryable (a query for it is cheap, by key)."""
        chain = Chain(PROBE_SERVICE)
        async with grpc.aio.insecure_channel(target) as channel:
            one = publish(channel)
            n = 0
            while not done.is_set():
                n += 1
                ev = builders.generation(
                    request_model="probe", event_id=f"probe-{n}", occurred_at=time.time()
                )
                raw = pb.EventBatch(batch_id=f"probe-{n}", events=[chain.seal(ev)])
                async for ack in one(
                    iter([raw.SerializeToString()]),
                    metadata=(("authorization", f"Bearer {PROBE_TOKEN}"),),
                ):
                    if ack.accepted:
                        record.probes[f"probe-{n}"] = time.time()
                        record.accepted += ack.accepted
                await asyncio.sleep(PROBE_EVERY_S)

    done = asyncio.Event()

    async def load() -> None:
        await asyncio.gather(*(stream(p) for p in TOKENS))
        done.set()

    await asyncio.gather(load(), probe())


class Sample(NamedTuple):
    """One second's reading: stored rows, the rules' lag (records), each process's (CPU seconds,
    RSS bytes), and the host's steal since boot (CPU seconds)."""

    at: float
    stored: int
    lag: int
    usage: dict[str, tuple[float, int]]
    stolen_s: float


class Pollers:
    """Threads, each with its own ClickHouse connection: the probe's stored events (every
    100 ms), the violator's alerts (every 200 ms), and once a second the events table's row
    count, the rules' lag and every process's CPU and RSS."""

    def __init__(self, up: RunningUp, deadline_s: float) -> None:
        self.up = up
        self.deadline_s = deadline_s
        self.stop = threading.Event()
        self.visible: dict[str, float] = {}  # probe event id → when first queryable
        self.alerts: dict[str, float] = {}
        self.samples: list[Sample] = []
        self.labels = {
            os.getpid(): "load sender",
            up.proc.pid: "up (supervisor)",
            **{pid: n for n, pid in up.pids.items()},
        }
        self.lag_urls = rules_metrics(up)
        self.threads = [
            threading.Thread(target=self._loop, args=(f, s), daemon=True)
            for f, s in ((self._probes, 0.1), (self._alerts, 0.2), (self._sample, 1.0))
        ]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()

    def _loop(self, poll: Any, every: float) -> None:
        ex = ServerExecutor(self.up.writer_url)
        try:
            while not self.stop.is_set():
                began = time.time()
                poll(ex)
                self.stop.wait(max(0.0, every - (time.time() - began)))
        finally:
            ex.close()

    def _probes(self, ex: ServerExecutor) -> None:
        rows = ex.execute(
            "SELECT event_id FROM events WHERE provider_id = %(p)s AND service_id = %(s)s"
            " AND occurred_at >= %(since)s",
            {"p": PROBE, "s": PROBE_SERVICE, "since": int(time.time() - 60)},
        )
        now = time.time()
        for (event_id,) in rows:
            self.visible.setdefault(str(event_id), now)

    def _alerts(self, ex: ServerExecutor) -> None:
        rows = ex.execute(
            "SELECT alert_id FROM alerts WHERE provider_id = %(p)s AND rule_id = %(r)s"
            " AND due >= %(since)s",
            {"p": VIOLATOR, "r": RULE, "since": int(time.time() - self.deadline_s - 120)},
        )
        now = time.time()
        for (alert_id,) in rows:
            self.alerts.setdefault(str(alert_id), now)

    def _sample(self, ex: ServerExecutor) -> None:
        count = int(ex.execute("SELECT count() FROM events")[0][0])
        lag = sum(rules_gauge(self.lag_urls, LAG).values())
        usage = usage_by_process(os.getpid(), self.labels)
        self.samples.append(Sample(time.time(), count, lag, usage, _stolen_s()))


def _stolen_s() -> float:
    """CPU seconds the hypervisor has given to others while this machine wanted them (the
    "steal" column of /proc/stat), since boot: a minute where it rises is the host's, not ours."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


def _per_s(change: float, span: float, digits: int | None) -> float | None:
    """A change over ``span`` seconds, per second (None over no time)."""
    return round(change / span, digits) if span > 0 else None


def _at_or_after(samples: list[Sample], t: float) -> Sample:
    times = [s.at for s in samples]
    return samples[min(bisect.bisect_left(times, t), len(samples) - 1)]


def freshness(start: float, pollers: Pollers, record: Record) -> list[tuple[float, float]]:
    """(instant, acknowledged → queryable) of every probe event of the run."""
    return [
        (acked, max(0.0, pollers.visible[event_id] - acked))
        for event_id, acked in record.probes.items()
        if acked >= start and event_id in pollers.visible
    ]


def lateness(pollers: Pollers, due: dict[str, float]) -> list[tuple[float, float]]:
    """(deadline, deadline → alert row) of every missed deadline whose alert was seen."""
    return [(d, max(0.0, pollers.alerts[a] - d)) for a, d in due.items() if a in pollers.alerts]


def per_minute(
    start: float,
    seconds: float,
    pollers: Pollers,
    fresh: list[tuple[float, float]],
    late: list[tuple[float, float]],
) -> list[dict[str, Any]]:
    def by_minute(samples: list[tuple[float, float]]) -> dict[int, list[float]]:
        out: dict[int, list[float]] = defaultdict(list)
        for at, value in samples:
            out[int((at - start) // 60)].append(value)
        return out

    freshness, alerts = by_minute(fresh), by_minute(late)
    out = []
    for m in range(int(seconds // 60)):
        a = _at_or_after(pollers.samples, start + 60 * m)
        b = _at_or_after(pollers.samples, start + 60 * (m + 1))
        in_minute = [s for s in pollers.samples if a.at <= s.at <= b.at]
        span = b.at - a.at  # 0 when the samples ended before the minute
        out.append(
            {
                "minute": m + 1,
                "stored_per_s": _per_s(b.stored - a.stored, span, None),
                "rules_lag_records_max": max(s.lag for s in in_minute),
                "rules_lag_records_end": b.lag,
                "freshness": quantiles(freshness.get(m, [])),
                "violation_to_alert": quantiles(alerts.get(m, [])),
                "host_steal_cores": _per_s(b.stolen_s - a.stolen_s, span, 3),
                "rss_mb": {k: round(v[1] / 2**20) for k, v in sorted(b.usage.items())},
                "cpu_cores": {
                    k: _per_s(v[0] - a.usage.get(k, (0.0, 0))[0], span, 3)
                    for k, v in sorted(b.usage.items())
                    if span > 0
                },
            }
        )
    return out


def verdicts(
    minutes: list[dict[str, Any]],
    freshness: dict[str, float],
    alerts: dict[str, float],
    warmup: int,
    rss_tolerance: float,
) -> dict[str, Any]:
    rates = [m["stored_per_s"] for m in minutes]
    first = rates[0] or 0
    growth = {}
    if len(minutes) > warmup:
        after, last = minutes[warmup - 1]["rss_mb"], minutes[-1]["rss_mb"]
        # the platform's processes (the bench's own keep what they measured)
        growth = {
            k: round(last[k] / after[k] - 1, 3)
            for k in last
            if after.get(k) and not k.startswith("load ")
        }
    return {
        "no_minute_below_90pct_of_first": all(r is not None and r >= 0.9 * first for r in rates),
        "rss_growth_after_warmup": growth,
        "rss_flat_after_warmup": bool(growth) and all(g <= rss_tolerance for g in growth.values()),
        "freshness_p99_within_1s": freshness.get("p99_ms", 1e9) <= 1000,
        "violation_to_alert_p99_within_5s": alerts.get("p99_ms", 1e9) <= 5000,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    registry = ProviderRegistry(
        unlimited(BURST_TOKENS)
        + unlimited(MIX_TOKENS)
        + unlimited(TOKENS)
        + unlimited({PROBE: PROBE_TOKEN})
    )
    env = {"JIANGUAN_RULE_OVERRIDES": json.dumps({RULE: {"report_hours": args.deadline / 3600}})}
    with (
        tempfile.TemporaryDirectory(prefix="jianguan-bench-sus-") as scratch,
        launched_up(Path(args.keep_state or scratch), registry, env) as up,
    ):
        tmp = args.keep_state or scratch
        maximum: dict[str, Any] = {}
        rate = args.rate
        if rate is None:
            data, total = same_mix(args.max_events, args.seed + 1)
            maximum = burst(up, data, total, MIX_TOKENS)
            # The rate names new events; follow-ups come on top, as in the burst.
            rate = args.share * maximum["events_per_s_rules_included"] * args.max_events / total
        ex = ServerExecutor(up.writer_url)
        stored_before = int(ex.execute("SELECT count() FROM events")[0][0])
        start, files = pregenerate(Path(tmp), rate, args.seconds, args.seed)
        pollers = Pollers(up, args.deadline)
        pollers.start()
        record = Record()
        try:
            asyncio.run(drive(up.gateway, files, record))
            # Drain: every accepted event stored, every passed deadline's alert seen.
            sent_all = time.time()
            while int(ex.execute("SELECT count() FROM events")[0][0]) < (
                stored_before + record.accepted
            ):
                if time.time() - sent_all > 300:
                    break
                time.sleep(0.2)
            due = {
                f"{RULE}:{VIOLATOR}:{eid}/DEADLINE_MISSED/report": at + args.deadline
                for eid, at in record.hits
            }
            in_run = {a for a, d in due.items() if d < start + args.seconds}
            while time.time() - sent_all < args.deadline + 60 and not in_run <= set(pollers.alerts):
                time.sleep(0.2)
        finally:
            pollers.close()
        stored = int(ex.execute("SELECT count() FROM events")[0][0]) - stored_before
        ex.close()
    fresh = freshness(start, pollers, record)
    late = lateness(pollers, {a: due[a] for a in in_run})
    minutes = per_minute(start, args.seconds, pollers, fresh, late)
    fresh_q, alerts = quantiles([v for _, v in fresh]), quantiles([v for _, v in late])
    return {
        "maximum": maximum or {"given_rate_per_s": args.rate},
        "share_of_maximum": args.share if args.rate is None else None,
        "rate_per_s": round(rate),
        "seconds": args.seconds,
        "deadline_s": args.deadline,
        "providers": {**{p: list(k) for p, k in COMPLIANT.items()}, VIOLATOR: "violator"},
        "events_accepted": record.accepted,
        # follow-ups (acknowledgements, reports, answers) come on top of the new events
        "events_per_s_sent": round(record.accepted / args.seconds),
        "events_not_accepted": record.not_accepted,
        # raw rows, not through FINAL: equal to the accepted count when none was lost or doubled
        "events_stored_rows": stored,
        "exactly_once": stored == record.accepted,
        "max_send_lag_s": round(record.max_send_lag_s, 3),
        "freshness_ack_to_queryable": fresh_q,
        "deadlines_passed_in_run": len(in_run),
        "alerts_seen": len(late),
        "violation_to_alert": alerts,
        "minutes": minutes,
        "pass": verdicts(minutes, fresh_q, alerts, args.warmup_minutes, args.rss_tolerance),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--share", type=float, default=0.5, help="of the measured maximum")
    ap.add_argument("--rate", type=float, help="events/s (skips measuring the maximum)")
    ap.add_argument("--max-events", type=int, default=400_000, help="in the burst")
    ap.add_argument("--deadline", type=float, default=30, help="Art. 14 ¶1 report, seconds")
    ap.add_argument("--warmup-minutes", type=int, default=2)
    ap.add_argument("--rss-tolerance", type=float, default=0.1, help="growth after warm-up")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep-state", help="run the platform in this directory and keep it (logs)")
    args = ap.parse_args()
    result = {
        "benchmark": "sustained",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cores": os.cpu_count(),
        **run(args),
    }
    write_result("sustained", result)
    return 0 if result["exactly_once"] and result["alerts_seen"] else 1


if __name__ == "__main__":
    sys.exit(main())
