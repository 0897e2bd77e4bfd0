"""Keeps the platform's service processes running: start, restart on death (with backoff), stop."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from jianguan.runtime.process import Child

log = logging.getLogger(__name__)


@dataclass
class ServiceSpec:
    """A service process: ``python -m <module> <args>`` with its environment."""

    name: str
    module: str
    env: dict[str, str]
    args: tuple[str, ...] = ()

    @property
    def argv(self) -> list[str]:
        return [sys.executable, "-m", self.module, *self.args]


@dataclass
class _Running:
    spec: ServiceSpec
    child: Child
    started: float
    restarts: int = 0
    backoff: float = 0.5
    due: float | None = None


@dataclass
class Supervisor:
    log_dir: Path
    running: dict[str, _Running] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic  # seconds; backoffs and run lengths

    def start(self, spec: ServiceSpec) -> Child:
        # What the process prints outside its log (a crash's traceback): <name>.out; its log,
        # rotated, is <name>.log (runtime.logs).
        child = Child(spec.name, spec.argv, self.log_dir / f"{spec.name}.out", env=spec.env)
        previous = self.running.get(spec.name)
        entry = _Running(spec, child, self.clock())
        if previous is not None:
            entry.restarts, entry.backoff = previous.restarts + 1, previous.backoff
        self.running[spec.name] = entry
        return child

    def pid(self, name: str) -> int:
        return self.running[name].child.pid

    def check(self) -> list[str]:
        """Restart every child that exited; returns the names restarted. Call periodically.

        A child that ran for less than 30 s before dying waits an exponentially growing backoff
        (up to 30 s) so a crash loop does not spin.
        """
        restarted = []
        now = self.clock()
        for name, entry in list(self.running.items()):
            code = entry.child.poll()
            if code is None:
                continue
            if entry.due is None:
                if now - entry.started > 30:  # it had been running fine: no crash loop
                    entry.backoff = 0.5
                entry.due = now + entry.backoff
                log.warning("%s exited with %s; restarting in %.1fs", name, code, entry.backoff)
            if now >= entry.due:
                entry.child.stop()
                self.start(entry.spec)
                self.running[name].backoff = min(entry.backoff * 2, 30.0)
                restarted.append(name)
        return restarted

    def stop_all(self, order: list[str] | None = None) -> None:
        """Stop children in ``order`` (the rest after), each with SIGTERM then SIGKILL."""
        names = (order or []) + [n for n in self.running if n not in (order or [])]
        for name in names:
            entry = self.running.pop(name, None)
            if entry is not None:
                entry.child.stop(grace=30.0)
