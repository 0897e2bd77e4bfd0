"""Drives a planned fleet through the SDK: one reporter (and spool) per provider, paced to a
total event rate, until the duration ends or ``stop`` is set; then flushes every spool."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from jianguan.contracts import pb
from jianguan.simulator.authority import record_reliably
from jianguan.simulator.compliant import CompliantProvider
from jianguan.simulator.fleet import SimProvider, authority_token_key
from jianguan.simulator.library import Scenario
from jianguan_sdk.outcome import Outcome
from jianguan_sdk.reporter import AsyncReporter

TICK_S = 0.1
Event = pb.event_pb2.Event


@dataclass
class SimStats:
    reported: int = 0
    delivered: int = 0
    not_accepted: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def count(self, out: Outcome) -> None:
        if out.ok:
            self.delivered += 1
        else:
            self.not_accepted[out.status] = self.not_accepted.get(out.status, 0) + 1

    def line(self) -> str:
        bad = sum(self.not_accepted.values())
        return (
            f"{time.monotonic() - self.started:7.1f}s  reported {self.reported:>9}"
            f"  delivered {self.delivered:>9}  not accepted {bad:>5}"
        )


def _by_service(events: list[tuple[str, Event]]) -> dict[str, list[Event]]:
    out: dict[str, list[Event]] = {}
    for service, ev in events:
        out.setdefault(service, []).append(ev)
    return out


async def _record(target: str, tokens: dict[str, str], history: Scenario, p: SimProvider) -> None:
    """The authorities' side of a provider's history, each with its authority's token."""
    for authority, action in history.actions_for(p.provider_id, p.history_service):
        token = tokens[authority_token_key(authority)]
        ack = await record_reliably(target, token, action)
        if not ack.recorded:
            what = type(action).__name__
            raise RuntimeError(
                f"{authority} could not record a {what}: {ack.field_path} {ack.reason}"
            )


async def simulate(
    target: str,
    tokens: dict[str, str],
    fleet: list[SimProvider],
    library: dict[str, Scenario],
    rate_per_s: float,
    duration_s: float | None,
    seed: int,
    spool_root: Path,
    stop: asyncio.Event | None = None,
    on_tick: Callable[[SimStats], None] | None = None,
    flush_timeout_s: float = 300.0,
) -> SimStats:
    stats = SimStats()
    now = time.time()
    run_tag = f"s{seed}t{int(now)}"
    stop = stop or asyncio.Event()
    reporters = {
        p.provider_id: AsyncReporter(
            target,
            token=tokens[p.provider_id],
            spool_dir=spool_root / p.provider_id,
            on_result=stats.count,
        )
        for p in fleet
    }
    behaviours = {
        p.provider_id: CompliantProvider(p.provider_id, seed, run_tag, p.kinds) for p in fleet
    }

    def report(pid: str, events: list[tuple[str, Event]]) -> None:
        for service, evs in _by_service(events).items():
            reporters[pid].report_many(service, evs)
            stats.reported += len(evs)

    try:
        for r in reporters.values():
            r.start()
        for p in fleet:
            report(p.provider_id, behaviours[p.provider_id].opening(now))
            if p.history is not None:
                history = [
                    Event.FromString(ev.SerializeToString()) for ev in library[p.history].events
                ]
                report(p.provider_id, [(p.history_service, ev) for ev in history])
                await _record(target, tokens, library[p.history], p)
        started = time.monotonic()
        per_provider = rate_per_s / len(fleet)
        owed = 0.0
        last_tick = started
        while not stop.is_set():
            elapsed = time.monotonic() - started
            if duration_s is not None and elapsed >= duration_s:
                break
            owed += per_provider * (time.monotonic() - last_tick)
            last_tick = time.monotonic()
            n = int(owed)
            owed -= n
            wall = time.time()
            for p in fleet:
                report(p.provider_id, behaviours[p.provider_id].events(n, wall))
            if on_tick is not None:
                on_tick(stats)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), TICK_S)
        if not stop.is_set():  # on Ctrl-C, leave what is unsent in the spools for next time
            await asyncio.gather(*(r.flush(flush_timeout_s) for r in reporters.values()))
    finally:
        for r in reporters.values():
            await r.close()
    return stats
