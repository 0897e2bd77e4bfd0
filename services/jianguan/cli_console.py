"""`jianguan console` and `jianguan regulators …`: the regulator console and its accounts."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from jianguan.console.access_log import AccessLog
from jianguan.console.accounts import ROLES, Accounts, add_account
from jianguan.console.server import Console, serve
from jianguan.runtime.signals import stop_on_signals
from jianguan.settings import Settings
from jianguan.store.executor import ClickHouseUrl


def access_log_path(settings: Settings) -> Path:
    return settings.state_dir / "console" / "evidence-access.log"


def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    """The console process (what `up` runs): HTTP on JIANGUAN_CONSOLE_HOST:PORT."""
    url_text = settings.console_clickhouse_url or settings.clickhouse_url
    if not url_text:
        print("error: JIANGUAN_CONSOLE_CLICKHOUSE_URL is not set", file=sys.stderr)
        return 2
    if settings.console_clickhouse_url is None:
        print("warning: the console uses the writer's ClickHouse user; give it a read-only one"
              " with JIANGUAN_CONSOLE_CLICKHOUSE_URL", file=sys.stderr)  # fmt: skip
    console = Console(
        ClickHouseUrl.parse(url_text),
        settings.regulators_file,
        settings.providers_file,
        AccessLog(access_log_path(settings)),
        settings.console_secure_cookies,
    )

    async def main() -> None:
        runner = await serve(console, settings.console_host, settings.console_port)
        stop = asyncio.Event()
        stop_on_signals(asyncio.get_running_loop(), stop)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(main())
    return 0


def cmd_regulators(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.regulators_file
    if args.action == "add":
        if args.role == "viewer" and not (args.providers or args.sectors):
            print(
                "error: a viewer needs --providers or --sectors (the department's scope)",
                file=sys.stderr,
            )
            return 2
        providers = [p for p in (args.providers or "").split(",") if p]
        sectors = [s for s in (args.sectors or "").split(",") if s]
        password = add_account(path, args.username, args.role, providers, args.name or "", sectors)
        print(f"regulator {args.username} ({args.role}); password (shown once):\n{password}")
        return 0
    for a in Accounts.load(path).all:
        scope = (
            ",".join(sorted(a.providers) + [f"sector:{s}" for s in sorted(a.sectors)])
            if a.role == "viewer"
            else "all providers"
        )
        print(f"{a.username:20} {a.role:8} {scope}")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    con = sub.add_parser("console", help="run the regulator console process (configured by env)")
    con.set_defaults(fn=cmd_console)
    reg = sub.add_parser("regulators", help="regulator accounts of the console")
    reg_sub = reg.add_subparsers(dest="action", required=True)
    add = reg_sub.add_parser("add", help="create (or reset) an account and print its password")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--providers", help="a viewer's scope: provider ids, comma-separated")
    add.add_argument("--sectors", help="a viewer's scope: sectors, comma-separated")
    add.add_argument("--name")
    reg_sub.add_parser("list")
    reg.set_defaults(fn=cmd_regulators)
