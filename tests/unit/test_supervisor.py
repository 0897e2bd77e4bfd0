"""The supervisor restarts a dead child with growing backoff, reset after a healthy run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jianguan.runtime import process
from jianguan.runtime.process import free_port
from jianguan.runtime.stack import Platform, StackConfig, StartError
from jianguan.runtime.supervisor import ServiceSpec, Supervisor


def test_a_crash_loop_backs_off_and_stop_all_ends_everything(tmp_path: Path) -> None:
    now = [1000.0]
    sup = Supervisor(tmp_path, clock=lambda: now[0])
    spec = ServiceSpec("dies", "jianguan.no_such_service", {})
    first = sup.start(spec)
    process.wait_until(lambda: first.poll() is not None, 60, "the child exits")  # at once
    assert sup.check() == []  # noticed: waits its backoff first
    now[0] += 0.49
    assert sup.check() == []
    now[0] += 0.01
    assert sup.check() == ["dies"]
    assert sup.running["dies"].restarts == 1
    assert sup.running["dies"].backoff == 1.0
    second = sup.running["dies"].child
    process.wait_until(lambda: second.poll() is not None, 60, "the restarted child exits")
    assert sup.check() == []  # the second crash waits twice as long
    now[0] += 1.0
    assert sup.check() == ["dies"]
    assert sup.running["dies"].backoff == 2.0
    sup.stop_all()
    assert sup.running == {}


def test_a_child_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    """A supervisor killed outright (SIGKILL: it stops nothing itself) leaves no orphan."""
    starter = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from jianguan.runtime.process import Child\n"
        "c = Child('sleeper', [sys.executable, '-c', 'import time; time.sleep(120)'],"
        f" Path({str(tmp_path)!r}) / 'sleeper.log')\n"
        "print(c.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    os.kill(child, 0)  # running
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break  # gone (reaped by init)
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        raise AssertionError("the child outlived the process that started it")


def _bind_answers(monkeypatch: pytest.MonkeyPatch, ports: list[int]) -> None:
    """Sockets whose bind(0) gets ``ports`` in turn."""
    answers = iter(ports)

    class _Socket:
        def __init__(self, *args: object) -> None:
            self.port = next(answers)

        def __enter__(self) -> _Socket:
            return self

        def __exit__(self, *args: object) -> None:
            pass

        def bind(self, address: object) -> None:
            pass

        def getsockname(self) -> tuple[str, int]:
            return "127.0.0.1", self.port

    monkeypatch.setattr(process.socket, "socket", _Socket)


def test_free_ports_are_never_handed_out_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel may answer two bind(0) calls with one port; services given both would clash."""
    _bind_answers(monkeypatch, [101, 101, 101, 102])  # below the ephemeral range: new
    assert [free_port(), free_port()] == [101, 102]


def test_a_reserved_port_is_never_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """A port the configuration gives one service (the gateway's) is not free for another."""
    _bind_answers(monkeypatch, [103, 104])
    process.reserve(103, 0)
    assert free_port() == 104


def test_up_refuses_a_gateway_port_another_process_holds(tmp_path: Path) -> None:
    """One line and no servers started when the configured gateway port is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        config = StackConfig(tmp_path, tmp_path / "providers.toml", gateway_port=port)
        with pytest.raises(StartError, match=f"gateway port 127.0.0.1:{port} is already in use"):
            Platform(config).start()
    assert list(tmp_path.iterdir()) == []  # no server was started


@pytest.mark.parametrize("field", ["metrics_port", "faust_web_port"])
def test_up_refuses_a_metrics_or_faust_port_another_process_holds(
    tmp_path: Path, field: str
) -> None:
    """Every fixed port is checked before anything starts, and the message says which setting
    to change: the ports after the configured one (one per service) count too."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        config = StackConfig(
            tmp_path, tmp_path / "providers.toml", rules_workers=2, **{field: port - 1}
        )
        setting = "JIANGUAN_METRICS_PORT" if field == "metrics_port" else "JIANGUAN_FAUST_WEB_PORT"
        with pytest.raises(StartError, match=f"127.0.0.1:{port} is already in use.*{setting}"):
            Platform(config).start()
    assert list(tmp_path.iterdir()) == []
