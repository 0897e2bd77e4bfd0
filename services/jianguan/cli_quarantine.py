"""`jianguan quarantine`: what the store sinks set aside instead of storing (a record, or one event
of a record, they cannot keep), newest first, with the reason; ``--json`` for tools."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from jianguan.cli_common import clickhouse_target
from jianguan.settings import Settings
from jianguan.store import quarantine, reader
from jianguan.store.executor import ServerExecutor


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


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    q = sub.add_parser(
        "quarantine",
        help="records the store set aside instead of storing, with the reason",
        description="Lists what the store sinks set aside (undecodable or unattributed records,"
        " bad headers, values outside their column, rows the server refused), newest first.",
    )
    q.add_argument("--clickhouse")
    q.add_argument("--topic", help="only records read from this topic")
    q.add_argument("--cause", choices=quarantine.CAUSES)
    q.add_argument("--limit", type=int, default=50)
    q.add_argument("--json", action="store_true", help="as JSON, one object per item")
    q.set_defaults(fn=cmd_quarantine)
