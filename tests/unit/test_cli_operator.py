"""What an operator meets first: a version, one line (never a traceback) when a server is
missing or a URL is wrong, and embedded servers that keep their address across restarts."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from jianguan.cli import main
from jianguan.runtime.clickhouse import ClickHouseServer
from jianguan.runtime.process import free_port


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JIANGUAN_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("JIANGUAN_CLICKHOUSE_URL", raising=False)
    monkeypatch.delenv("JIANGUAN_KAFKA", raising=False)
    return tmp_path


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("jianguan 0.1.0 (jianguan-sdk 0.1.0")


@pytest.mark.parametrize("command", ["verify-chain", "migrate", "replay"])
def test_no_clickhouse_is_one_line(
    command: str, state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error: no ClickHouse: the embedded one of")


def test_a_malformed_url_is_one_line(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify-chain", "--clickhouse", "http://x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: --clickhouse / JIANGUAN_CLICKHOUSE_URL: expected"
        " clickhouse://user:password@host:port/db, got 'http://x'"
    ]


def test_an_unreachable_clickhouse_is_one_line(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = free_port()
    assert main(["verify-chain", "--clickhouse", f"clickhouse://u:p@127.0.0.1:{closed}/db"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error: ClickHouse: ")
    assert "Connection refused" in err[0]


def test_the_embedded_clickhouse_keeps_its_ports_when_they_are_free(tmp_path: Path) -> None:
    tcp, http = free_port(), free_port()
    (tmp_path / "ports.json").write_text(json.dumps({"tcp": tcp, "http": http}))
    again = ClickHouseServer(tmp_path)
    assert (again.tcp_port, again.http_port) == (tcp, http)
    with socket.socket() as taken:  # another process took the native port meanwhile
        taken.bind(("127.0.0.1", tcp))
        taken.listen()
        moved = ClickHouseServer(tmp_path)
        assert moved.tcp_port != tcp
        assert moved.http_port == http
    given = ClickHouseServer(tmp_path, tcp_port=free_port())  # configured: as given
    assert given.tcp_port not in (tcp, http)


def test_every_command_and_option_has_help() -> None:
    import argparse

    from jianguan.cli.main import parser

    missing = []

    def walk(p: argparse.ArgumentParser, path: str) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                helped = {a.dest for a in action._choices_actions if a.help}
                for name, sub in action.choices.items():
                    if name not in helped:
                        missing.append(f"{path} {name}")
                    walk(sub, f"{path} {name}")
            elif not action.help and not isinstance(
                action, argparse._HelpAction | argparse._VersionAction
            ):
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(parser(), "jianguan")
    assert missing == []
