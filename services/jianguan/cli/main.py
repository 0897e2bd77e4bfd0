"""`jianguan …`: the command line. Each module of this package holds one group of commands
(its ``add_parsers``); this one assembles them, sets up logging and reads the settings."""

from __future__ import annotations

import argparse
import importlib.metadata
import sys

from clickhouse_driver.errors import NetworkError, SocketTimeoutError

from jianguan.cli import demo, kafka_tools, platform, prepare, registry, rules, store
from jianguan.runtime.entry import configure_logging, read_settings
from jianguan.runtime.stack import StartError


def _version() -> str:
    def of(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    return f"jianguan {of('jianguan')} (jianguan-sdk {of('jianguan-sdk')}, schema v1)"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jianguan", description="jianguan (监管): supervision of"
                                " generative-AI services under the Interim Measures.")  # fmt: skip
    p.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG")
    p.add_argument("--version", action="version", version=_version())
    sub = p.add_subparsers(dest="command", required=True)
    for group in (platform, demo, registry, rules, store, prepare, kafka_tools):
        group.add_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure_logging(args.verbose)
    settings = read_settings()
    if settings is None:
        return 2
    try:
        result: int = args.fn(args, settings)
    except StartError as exc:  # a server that is down or refuses us: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (NetworkError, SocketTimeoutError) as exc:
        print(f"error: ClickHouse: {exc}", file=sys.stderr)
        return 1
    return result
