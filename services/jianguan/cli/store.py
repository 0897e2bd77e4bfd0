"""`jianguan migrate`, `replay`, `verify-chain` and `quarantine`: the event store and what was
derived from it, for operators and auditors."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from jianguan.cli.common import clickhouse_target
from jianguan.domain.chain import verify_chain
from jianguan.settings import Settings
from jianguan.store import quarantine, reader
from jianguan.store.executor import ServerExecutor
from jianguan.store.migrate import migrate_database


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    url = clickhouse_target(args, settings)
    if url is None:
        return 2
    for m in migrate_database(url):
        print(f"applied {m.version:04d}_{m.name}")
    return 0


def cmd_verify_chain(args: argparse.Namespace, settings: Settings) -> int:
    """Check every chain in the event store; exit 1 if any is broken. A chain is named
    ``provider/service`` (the service's one chain) or ``provider/service@stream``."""
    url = clickhouse_target(args, settings)
    if url is None:
        return 2
    ex = ServerExecutor(url)
    broken = 0
    try:
        for provider_id, service_id, stream_id in reader.chains(ex, args.provider):
            name = f"{provider_id}/{service_id}" + (f"@{stream_id}" if stream_id else "")
            breaks = verify_chain(reader.chain_links(ex, provider_id, service_id, stream_id))
            for b in breaks:
                print(f"{name}: {b.kind} at sequence {b.sequence} (event {b.event_id}): {b.detail}")
            broken += bool(breaks)
            if args.verbose_ok and not breaks:
                print(f"{name}: intact")
    finally:
        ex.close()
    print(f"{broken} chain(s) broken", file=sys.stderr)
    return 1 if broken else 0


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild the case projections from the event store, or (--verify) check them."""
    from jianguan.processors import replay

    target = clickhouse_target(args, settings)
    if target is None:
        return 2
    if not args.verify:
        written = replay.rebuild(target, 0.0, settings.rule_overrides, settings.calendar)
        print(f"rebuilt case_facts and alerts from the event store: {written} facts")
        return 0
    verdict = replay.verify(
        target, args.grace, settings.rule_overrides, keep=args.keep, calendar=settings.calendar
    )
    for row in verdict.live_only:
        print(f"live only:   {row}")
    for row in verdict.replay_only:
        print(f"replay only: {row}")
    print("replay equals live" if verdict.equal else "replay DIFFERS from live", file=sys.stderr)
    return 0 if verdict.equal else 1


def cmd_quarantine(args: argparse.Namespace, settings: Settings) -> int:
    url = clickhouse_target(args, settings)
    if url is None:
        return 2
    ex = ServerExecutor(url)
    try:
        rows = reader.quarantined(ex, args.topic, args.cause, args.limit)
    finally:
        ex.close()
    if args.json:
        out = [dataclasses.asdict(r) for r in rows]
        print(json.dumps(out, ensure_ascii=False, default=str, indent=1))
        return 0
    for r in rows:
        where = f"{r.topic}[{r.partition}]@{r.offset}" + (f" item {r.item}" if r.item else "")
        who = r.provider_id or "-"
        event = f" event {r.event_id}" if r.event_id else ""
        print(f"{r.quarantined_at:%Y-%m-%d %H:%M:%S}  {r.cause:12}  {where}  {who}{event}")
        print(f"    {r.reason}  ({r.payload_bytes} bytes kept)")
    more = " (limit reached)" if len(rows) == args.limit else ""
    print(f"{len(rows)} item(s) set aside{more}", file=sys.stderr)
    return 0


CLICKHOUSE_HELP = (
    "the ClickHouse (clickhouse://user:pass@host:port/db); default: JIANGUAN_CLICKHOUSE_URL,"
    " else the embedded one of the state directory"
)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mig = sub.add_parser("migrate", help="apply ClickHouse migrations")
    mig.add_argument("--clickhouse", help=CLICKHOUSE_HELP)
    mig.set_defaults(fn=cmd_migrate)

    rp = sub.add_parser("replay", help="rebuild case projections from the event store")
    rp.add_argument("--clickhouse", help=CLICKHOUSE_HELP)
    rp.add_argument("--verify", action="store_true", help="replay into a scratch DB and compare")
    rp.add_argument("--grace", type=float, default=30.0, help="seconds of recent facts to skip")
    rp.add_argument("--keep", action="store_true", help="keep the scratch database")
    rp.set_defaults(fn=cmd_replay)

    vc = sub.add_parser(
        "verify-chain", help="check every stored hash chain (per service and stream)"
    )
    vc.add_argument("--clickhouse", help=CLICKHOUSE_HELP)
    vc.add_argument("--provider", help="only this provider's chains")
    vc.add_argument("--verbose-ok", action="store_true", help="also list intact services")
    vc.set_defaults(fn=cmd_verify_chain)

    q = sub.add_parser(
        "quarantine",
        help="records the store set aside instead of storing, with the reason",
        description="Lists what the store sinks set aside (undecodable or unattributed records,"
        " bad headers, values outside their column, rows the server refused), newest first.",
    )
    q.add_argument("--clickhouse", help=CLICKHOUSE_HELP)
    q.add_argument("--topic", help="only records read from this topic")
    q.add_argument("--cause", choices=quarantine.CAUSES, help="only records set aside for this")
    q.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    q.add_argument("--json", action="store_true", help="as JSON, one object per item")
    q.set_defaults(fn=cmd_quarantine)
