"""What the deployment tests (systemd, Kubernetes, compose) ask of a command a deployment runs."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from jianguan import settings
from jianguan.cli.main import parser
from jianguan.runtime.stack import ALERTING, CONSOLE, GATEWAY, PROCESSORS, STORE

# The service processes `jianguan up` runs: each deployment runs every one of them.
SERVICES = frozenset({GATEWAY, PROCESSORS, STORE, ALERTING, CONSOLE})


def command_of(args: list[str]) -> str:
    """The `jianguan` subcommand ``args`` run; fails the test unless they are a real command with
    real options."""
    sub = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert args[0] in sub.choices, args
    sub.choices[args[0]].parse_args(args[1:])
    return args[0]


def settings_read() -> set[str]:
    """Every JIANGUAN_* variable the settings module (the only reader of the environment) names."""
    return set(re.findall(r'"(JIANGUAN_[A-Z0-9_]+)"', Path(settings.__file__).read_text()))
