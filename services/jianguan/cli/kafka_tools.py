"""`jianguan kafka TOOL …`: the Apache Kafka distribution's command-line tools (console consumer,
topics, consumer groups, ACLs, configs, …) run from the jars `make install` fetched, pointed at the
embedded broker's internal listener unless ``--bootstrap-server`` is given."""

from __future__ import annotations

import argparse
import os
import sys

from jianguan.cli.common import kafka_listeners
from jianguan.runtime.kafka_dist import TOOLS, KafkaNotInstalled, tool_command
from jianguan.settings import Settings

_NO_BOOTSTRAP = {"storage"}


def tool_argv(tool: str, args: list[str], bootstrap: str | None) -> list[str]:
    """The tool's command line; ``--bootstrap-server`` added when the caller gave none."""
    if tool not in _NO_BOOTSTRAP and bootstrap and "--bootstrap-server" not in args:
        args = ["--bootstrap-server", bootstrap, *args]
    return tool_command(tool, args)


def cmd_kafka(args: argparse.Namespace, settings: Settings) -> int:
    listeners = kafka_listeners(settings)
    try:
        argv = tool_argv(args.tool, list(args.args), listeners[0] if listeners else None)
    except KafkaNotInstalled as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.flush()
    # the tool's own exit status and signals, as if run directly
    os.execv(argv[0], argv)  # noqa: S606


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    kafka = sub.add_parser(
        "kafka",
        help="the Kafka distribution's tools (console-consumer, topics, consumer-groups, acls, …)",
        description="Runs kafka-TOOL.sh's class with the project's Kafka jars; without "
        "--bootstrap-server, against the embedded broker's internal listener (or JIANGUAN_KAFKA).",
    )
    kafka.add_argument("tool", choices=sorted(TOOLS), help="the Kafka tool to run")
    kafka.add_argument("args", nargs=argparse.REMAINDER, help="the tool's own arguments")
    kafka.set_defaults(fn=cmd_kafka)
