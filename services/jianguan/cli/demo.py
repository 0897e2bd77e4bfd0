"""`jianguan demo` and `jianguan simulate`: the platform with simulated providers reporting
through the SDK, and the smoke run."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jianguan.accounts.registry import (
    Authority,
    Provider,
    ProviderRegistry,
    load_registry,
    new_token,
    save_registry,
    token_digest,
)
from jianguan.cli.common import (
    print_endpoints,
    stack_args,
    stack_config,
)
from jianguan.runtime.signals import stop_event
from jianguan.runtime.stack import Platform
from jianguan.settings import Settings
from jianguan.simulator import fleet as sim_fleet
from jianguan.simulator.library import by_name, default_base
from jianguan.simulator.run import SimStats, simulate
from jianguan.simulator.sender import Tally, stream_provider
from jianguan.simulator.traffic import DEMO_PROVIDERS, ProviderTraffic
from jianguan.simulator.verify import compare
from jianguan.store import reader
from jianguan.store.executor import ClickHouseUrl, ServerExecutor


def _new_accounts(
    provider_ids: Sequence[str], authority_ids: Sequence[str]
) -> tuple[list[Provider], list[Authority], dict[str, str]]:
    """Providers and authorities (those whose records the histories hold) with new tokens, and
    the tokens (an authority's under ``authority_token_key``)."""
    tokens = {pid: new_token() for pid in provider_ids}
    mine = {aid: new_token() for aid in authority_ids}
    providers = [Provider(pid, pid, token_sha256=token_digest(t)) for pid, t in tokens.items()]
    authorities = [Authority(aid, aid, token_digest(t)) for aid, t in mine.items()]
    return (
        providers,
        authorities,
        tokens | {sim_fleet.authority_token_key(a): t for a, t in mine.items()},
    )


def _demo_registry(
    path: Path, provider_ids: list[str], authority_ids: Sequence[str] = ()
) -> dict[str, str]:
    """Registers the accounts (``_new_accounts``) in a fresh registry file; their tokens."""
    providers, authorities, tokens = _new_accounts(provider_ids, authority_ids)
    save_registry(path, ProviderRegistry(providers, authorities))
    return tokens


def _live_counts(url: ClickHouseUrl) -> reader.PlatformCounts:
    """Events stored, cases open, alerts raised: what the demo prints every two seconds."""
    with ServerExecutor(url) as ex:
        return reader.platform_counts(ex)


def _count_stored(url: ClickHouseUrl) -> int:
    with ServerExecutor(url) as ex:
        return reader.stored_events(ex)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    if args.smoke:
        with tempfile.TemporaryDirectory(prefix="jianguan-smoke-") as tmp:
            return _run_demo(args, settings, Path(tmp), smoke=True)
    return _run_demo(args, settings, settings.state_dir / "demo", smoke=False)


def _run_demo(args: argparse.Namespace, settings: Settings, state: Path, smoke: bool) -> int:
    started = time.monotonic()
    if not smoke and state.exists():
        # Each demo starts empty, so its live counts (sent, accepted, stored) agree.
        shutil.rmtree(state)
    if smoke:
        # The demo providers' realistic traffic only: no fleet of histories, so neither the
        # scenario library nor the authorities its histories name.
        library: dict[str, Any] = {}
        fleet: list[sim_fleet.SimProvider] = []
        ids, authorities = list(DEMO_PROVIDERS), []
    else:
        library = by_name(default_base(time.time()))
        fleet = sim_fleet.plan(args.providers, args.seed, sim_fleet.MIXED, library)
        ids, authorities = [p.provider_id for p in fleet], sim_fleet.authorities(fleet, library)
    providers_file = state / "demo-providers.toml"
    tokens = _demo_registry(providers_file, ids, authorities)
    cfg = stack_config(args, settings, state, providers_file)
    if smoke:
        cfg.gateway_port = cfg.metrics_port = cfg.console_port = cfg.faust_web_port = 0
    platform = Platform(cfg)
    platform.start()
    try:
        assert platform.infra.writer_url is not None
        if smoke:
            return asyncio.run(_smoke(args, platform, tokens, started))
        print_endpoints(platform)
        target = f"127.0.0.1:{platform.gateway_port}"
        asyncio.run(_live(args, platform, target, tokens, fleet, library, state))
        return 0
    finally:
        if not smoke:
            print("stopping…", flush=True)
        platform.stop()


async def _smoke(
    args: argparse.Namespace, platform: Platform, tokens: dict[str, str], started: float
) -> int:
    assert platform.infra.writer_url is not None
    target = f"127.0.0.1:{platform.gateway_port}"
    tally = Tally()
    per = [args.events // len(tokens)] * len(tokens)
    per[0] += args.events - sum(per)
    await asyncio.gather(
        *(
            stream_provider(
                target,
                tokens[pid],
                ProviderTraffic(pid, DEMO_PROVIDERS[pid], args.seed),
                n,
                args.batch,
                tally,
            )
            for pid, n in zip(tokens, per, strict=True)
        )
    )
    stored = 0
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        stored = await asyncio.to_thread(_count_stored, platform.infra.writer_url)
        if stored >= tally.accepted:
            break
        await asyncio.sleep(0.2)
    case_facts = await _settled_case_facts(platform.infra.writer_url, deadline)
    result = {
        "sent": tally.sent,
        "accepted": tally.accepted,
        "stored": stored,
        "case_facts": case_facts,
        "rejected": tally.rejected,
        "seconds": round(time.monotonic() - started, 2),
    }
    print(json.dumps(result), flush=True)
    return 0 if tally.sent == tally.accepted == stored == args.events else 1


async def _settled_case_facts(url: ClickHouseUrl, deadline: float) -> int:
    """Wait until the rules have caught up (the case facts stop changing for 3 s), so that what
    the smoke leaves behind is a consistent projection a replay can be checked against."""

    def count() -> int:
        with ServerExecutor(url) as ex:
            return reader.case_fact_rows(ex)

    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        n = await asyncio.to_thread(count)
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since >= 3:
            break
        await asyncio.sleep(0.5)
    return last


async def _live(
    args: argparse.Namespace,
    platform: Platform | None,
    target: str,
    tokens: dict[str, str],
    fleet: list[sim_fleet.SimProvider],
    library: dict[str, Any],
    state: Path,
    duration_s: float | None = None,
) -> SimStats:
    """Run the simulated fleet; every two seconds print what it reported and, when the platform
    is ours, what is stored and found. Stops at ``duration_s`` or on Ctrl-C."""
    violators = sum(p.history in sim_fleet.violating(library) for p in fleet)
    print(
        f"simulated providers: {', '.join(p.provider_id for p in fleet)} ({violators} violating);"
        f" {args.rate:.0f} events/s. Ctrl-C stops.",
        flush=True,
    )
    stop = stop_event()
    url = platform.infra.writer_url if platform is not None else None
    printed = [0.0]

    def progress(stats: SimStats) -> None:
        if time.monotonic() - printed[0] < 2.0:
            return
        printed[0] = time.monotonic()
        line = stats.line()
        if url is not None:
            n = _live_counts(url)
            line += f"  stored {n.stored:>9}  open cases {n.open_cases:>6}  alerts {n.alerts:>5}"
        print(line, flush=True)

    supervise = asyncio.create_task(platform.supervise(stop)) if platform is not None else None
    try:
        return await simulate(
            target, tokens, fleet, library, args.rate, duration_s, args.seed,
            state / "spools", stop, progress,
        )  # fmt: skip
    finally:
        stop.set()
        if supervise is not None:
            await supervise


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    """Drive a simulated fleet through the SDK, against `--gateway` or an embedded platform."""
    library = by_name(default_base(time.time()))
    try:
        fleet = sim_fleet.plan(args.providers, args.seed, args.scenario, library)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    meta = {
        "seed": args.seed,
        "scenario": args.scenario,
        "rate": args.rate,
        "duration_s": args.duration,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    doc = sim_fleet.manifest(fleet, library, meta)
    if args.manifest:
        Path(args.manifest).write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    if args.enroll:
        return _enroll(args, settings, fleet, library)
    state = Path(args.spool) if args.spool else settings.state_dir / "simulator"
    check: dict[str, Any] | None = None
    if args.gateway:
        tokens = json.loads(Path(args.tokens).read_text()) if args.tokens else {}
        missing = [p.provider_id for p in fleet if p.provider_id not in tokens]
        missing += [
            key
            for key in map(sim_fleet.authority_token_key, sim_fleet.authorities(fleet, library))
            if key not in tokens
        ]
        if missing:
            print(f"error: no token for {', '.join(missing)} (see --enroll)", file=sys.stderr)
            return 2
        stats = asyncio.run(
            _live(args, None, args.gateway, tokens, fleet, library, state, args.duration)
        )
        url_text = getattr(args, "clickhouse", None) or settings.clickhouse_url
        if args.check and url_text:
            check = _check(doc, ClickHouseUrl.parse(url_text), args.check)
        elif args.check:
            print("error: --check needs --clickhouse (or JIANGUAN_CLICKHOUSE_URL)", file=sys.stderr)
            return 2
    else:
        tokens = _demo_registry(
            state / "providers.toml",
            [p.provider_id for p in fleet],
            sim_fleet.authorities(fleet, library),
        )
        platform = Platform(stack_config(args, settings, state, state / "providers.toml"))
        platform.start()
        try:
            print_endpoints(platform)
            target = f"127.0.0.1:{platform.gateway_port}"
            stats = asyncio.run(
                _live(args, platform, target, tokens, fleet, library, state, args.duration)
            )
            if args.check:
                assert platform.infra.writer_url is not None
                check = _check(doc, platform.infra.writer_url, args.check)
        finally:
            platform.stop()
    summary: dict[str, Any] = {
        "reported": stats.reported,
        "delivered": stats.delivered,
        "not_accepted": stats.not_accepted,
        "violations_injected": sum(len(library[p.history].violations) for p in fleet if p.history),
    }
    if check is not None:
        summary["check"] = check
    print(json.dumps(summary), flush=True)
    delivered = stats.delivered == stats.reported
    return 0 if delivered and (check is None or check["ok"]) else 1


def _check(manifest: dict[str, Any], url: ClickHouseUrl, timeout_s: float) -> dict[str, Any]:
    """Wait up to ``timeout_s`` for the platform's alerts to equal the manifest; the comparison."""
    deadline = time.monotonic() + timeout_s
    while True:
        ex = ServerExecutor(url)
        try:
            result = compare(manifest, ex)
        finally:
            ex.close()
        if result.ok or time.monotonic() > deadline:
            return result.as_json()
        time.sleep(2)


def _enroll(
    args: argparse.Namespace,
    settings: Settings,
    fleet: list[sim_fleet.SimProvider],
    library: dict[str, Any],
) -> int:
    """Register the fleet's providers and its histories' authorities (new tokens) and write the
    tokens where --tokens says."""
    if not args.tokens:
        print("error: --enroll needs --tokens FILE", file=sys.stderr)
        return 2
    path = settings.providers_file
    registry = load_registry(path)
    added, ours, tokens = _new_accounts(
        [p.provider_id for p in fleet], sim_fleet.authorities(fleet, library)
    )
    new_providers, new_authorities = {p.id for p in added}, {a.id for a in ours}
    kept = [p for p in registry.providers if p.id not in new_providers]
    others = [a for a in registry.authorities if a.id not in new_authorities]
    save_registry(path, ProviderRegistry(kept + added, [*others, *ours]))
    Path(args.tokens).write_text(json.dumps(tokens, indent=2) + "\n")
    os.chmod(args.tokens, 0o600)
    print(
        f"enrolled {len(added)} providers and {len(ours)} authorities in {path};"
        f" tokens in {args.tokens}"
    )
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="`up` plus realistic traffic from several providers")
    stack_args(demo)
    demo.add_argument("--rate", type=float, default=2000.0, help="events per second (demo)")
    demo.add_argument("--providers", type=int, default=6, help="simulated providers (demo)")
    demo.add_argument("--smoke", action="store_true", help="send --events, verify storage, exit")
    demo.add_argument(
        "--events", type=int, default=20000, help="smoke: events to send (default 20000)"
    )
    demo.add_argument("--batch", type=int, default=500, help="smoke: events per batch")
    demo.add_argument("--seed", type=int, default=1, help="the simulation's random seed")
    demo.add_argument(
        "--timeout", type=float, default=90.0, help="smoke: seconds to wait for storage"
    )
    demo.set_defaults(fn=cmd_demo)

    sim = sub.add_parser("simulate", help="drive a simulated fleet of providers through the SDK")
    stack_args(sim)
    sim.add_argument("--providers", type=int, default=6, help="simulated providers")
    sim.add_argument("--rate", type=float, default=500.0, help="events per second, all providers")
    sim.add_argument("--duration", type=float, default=60.0, help="seconds")
    sim.add_argument("--seed", type=int, default=1, help="the simulation's random seed")
    sim.add_argument("--scenario", default="mixed", help="mixed, compliant or a history's name")
    sim.add_argument("--manifest", help="write the violations injected to this JSON file")
    sim.add_argument("--gateway", help="HOST:PORT of a running gateway (default: embedded)")
    sim.add_argument("--tokens", help="JSON file {provider_id: token} for --gateway / --enroll")
    sim.add_argument("--spool", help="directory for the providers' spools")
    sim.add_argument(
        "--check",
        type=float,
        metavar="SECONDS",
        help="wait up to SECONDS after the run for the alerts to equal the manifest",
    )
    sim.add_argument(
        "--enroll", action="store_true", help="register the fleet in the registry and exit"
    )
    sim.set_defaults(fn=cmd_simulate)
