"""Child processes that are always stopped: SIGTERM, a grace period, then SIGKILL."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# Ports free_port has handed out in this process: the kernel may give the same free port to
# two successive bind(0) calls, and two services started with it would fight over it (the one
# that binds second crash-loops).
_HANDED: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago and that this process has not handed out before (for
    servers that cannot bind port 0 themselves)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        if port not in _HANDED:
            _HANDED.add(port)
            return port


def reserve(*ports: int) -> None:
    """Ports chosen by configuration, never to be handed out by free_port in this process (a
    metrics server given the gateway's port would answer its readiness probe while the gateway
    cannot bind)."""
    _HANDED.update(p for p in ports if p)


def bindable(host: str, port: int) -> bool:
    """Nothing listens on ``port`` (a socket left in TIME_WAIT by a stopped server does not
    count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, proc: Child | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: process exited with {proc.poll()}; see {proc.log_path}")
        if check():
            return
        time.sleep(0.02)
    raise TimeoutError(f"{what}: not ready after {timeout:.0f} s")


# util-linux's setpriv sets prctl(PR_SET_PDEATHSIG), Linux's "signal me when my parent dies",
# then execs. No Python may run in a child forked from a multi-threaded process (gRPC's threads,
# the event loop's executors): a preexec_fn doing this crashed such a child with SIGSEGV.
_SETPRIV = shutil.which("setpriv") if sys.platform == "linux" else None


def dying_with_me(argv: Sequence[str]) -> list[str]:
    """``argv`` made to be SIGKILLed when this process dies, however it dies (even by SIGKILL,
    when it stops nothing itself), so no service, broker or server outlives the supervisor that
    started it; it exits at once if this process died before the signal was set. Linux ties this
    to the starting thread: children are started from the main thread. Unchanged where setpriv
    is missing."""
    if _SETPRIV is None:
        return list(argv)
    guard = f'[ "$PPID" = "{os.getpid()}" ] || exit 1; exec "$@"'
    return [_SETPRIV, "--pdeathsig", "KILL", "--", "/bin/sh", "-c", guard, "sh", *argv]


class Child:
    """A started process in its own process group, its output in a log file; it dies with the
    process that started it."""

    def __init__(
        self, name: str, argv: Sequence[str], log_path: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("ab")
        self._proc = subprocess.Popen(
            dying_with_me(argv),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self._proc.pid

    def poll(self) -> int | None:
        return self._proc.poll()

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM the process group, wait ``grace`` seconds, then SIGKILL. Idempotent."""
        if self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(grace)
            except subprocess.TimeoutExpired:
                return self.kill()
        self._log.close()
        return self._proc.returncode

    def kill(self) -> int | None:
        """SIGKILL the process group at once (a crash: no shutdown of its own). Idempotent."""
        if self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        self._log.close()
        return self._proc.returncode
