"""`jianguan up` (the whole platform on this machine) and the commands that run one service
process each (what `up` starts as `python -m jianguan.<service>`; the same, for an operator who
runs them under a service manager): the CLI parses, the service's ``main`` module does the rest."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from jianguan.accounts.registry import ProviderRegistry, RegistryError
from jianguan.cli.common import print_endpoints, stack_args, stack_config
from jianguan.runtime.signals import stop_event
from jianguan.runtime.stack import Platform
from jianguan.settings import Settings


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    from jianguan.alerting.config import ConfigError
    from jianguan.alerting.main import receivers

    try:
        ProviderRegistry.load(settings.providers_file)
    except RegistryError as exc:
        print(
            f"error: {exc}\n(register providers with `jianguan providers add ID`)", file=sys.stderr
        )
        return 2
    try:  # said now rather than by an alerting process restarting forever
        receivers(settings)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    platform = Platform(stack_config(args, settings, settings.state_dir, settings.providers_file))
    # A SIGTERM while the servers start stops what was started (never orphans a child).
    signal.signal(signal.SIGTERM, _exit_cleanly)
    platform.start()
    try:
        print_endpoints(platform)

        async def main() -> None:
            stop = stop_event()
            print("Ctrl-C stops everything.", flush=True)  # only once a signal is handled
            await platform.supervise(stop)

        asyncio.run(main())
    finally:
        print("stopping…", flush=True)
        platform.stop()
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """What runs under `jianguan up` of the state directory: exit 0 when everything does, 1
    when a server or service is down, 3 when `up` is not running."""
    from jianguan.runtime.status import as_json, read_status, render

    status = read_status(settings.state_dir)
    print(as_json(status) if args.json else render(status))
    if not status.up:
        return 3
    return 0 if status.healthy else 1


def cmd_gateway(args: argparse.Namespace, settings: Settings) -> int:
    from jianguan.gateway.main import run

    return run(settings)


def cmd_processors(args: argparse.Namespace, settings: Settings) -> int:
    from jianguan.processors.main import run

    return run(settings, rules_only=args.rules_only)


def processor_arguments(parser: argparse.ArgumentParser) -> None:
    from jianguan.processors.main import add_arguments

    add_arguments(parser)


def cmd_store(args: argparse.Namespace, settings: Settings) -> int:
    from jianguan.store.main import run

    return run(settings)


def cmd_alerting(args: argparse.Namespace, settings: Settings) -> int:
    from jianguan.alerting.main import run

    return run(settings)


def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    from jianguan.console.main import run

    return run(settings)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    up = sub.add_parser("up", help="start the platform on this machine")
    stack_args(up)
    up.set_defaults(fn=cmd_up)
    status = sub.add_parser(
        "status",
        help="what runs under `jianguan up` (JIANGUAN_STATE_DIR): servers, services, lags, last"
        " errors; exit 0 all running, 1 something down, 3 not up",
    )
    status.add_argument("--json", action="store_true", help="as JSON")
    status.set_defaults(fn=cmd_status)

    gw = sub.add_parser("gateway", help="run the gRPC gateway process (configured by env)")
    gw.set_defaults(fn=cmd_gateway)
    procs = sub.add_parser(
        "processors", help="run the faust worker: rules, store checks, Kafka inbound validation"
    )
    processor_arguments(procs)
    procs.set_defaults(fn=cmd_processors)
    store = sub.add_parser("store", help="run the store sinks: the log into ClickHouse")
    store.set_defaults(fn=cmd_store)
    al = sub.add_parser("alerting", help="run the alert dispatcher process (configured by env)")
    al.set_defaults(fn=cmd_alerting)
    con = sub.add_parser("console", help="run the regulator console process (configured by env)")
    con.set_defaults(fn=cmd_console)
