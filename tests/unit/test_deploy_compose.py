"""deploy/compose: the file loads as compose-spec's own loader loads it (`docker compose config`
runs the same compose-go: schema, interpolation, references), each jianguan container runs a real
command after `prepare` has finished, every service process of `jianguan up` is in it, and every
setting it gives is one the code reads."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.deploy_commands import SERVICES, command_of, settings_read

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose"
GO = shutil.which("go") or "go is not installed"


@pytest.fixture(scope="module")
def checker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """deploy/compose/check built (compose-go from the Go module proxy, then the build cache)."""
    out = tmp_path_factory.mktemp("compose") / "check"
    subprocess.run(
        [GO, "build", "-o", str(out), "."], cwd=COMPOSE / "check", check=True, timeout=600
    )
    return out


def _config(checker: Path, compose: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(checker), "-env", str(COMPOSE / "example.env"), str(compose)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_compose_file_loads_as_docker_compose_loads_it(checker: Path) -> None:
    done = _config(checker, COMPOSE / "compose.yaml")
    assert done.returncode == 0, done.stderr
    model: dict[str, Any] = yaml.safe_load(done.stdout)
    services = model["services"]
    jianguan = {n: s for n, s in services.items() if s.get("image") == "jianguan:0.1.0"}
    commands = {n: command_of(s["command"]) for n, s in jianguan.items()}
    assert set(commands.values()) >= SERVICES | {"prepare"}
    for name, s in jianguan.items():
        if name != "prepare":
            assert s["depends_on"]["prepare"]["condition"] == "service_completed_successfully"
        assert s["read_only"] is True, name
        assert s["cap_drop"] == ["ALL"], name
        assert set(s["environment"]) - settings_read() == set(), name
        # the passwords came from the env file, interpolated
        assert "CHANGE-ME-writer" in s["environment"]["JIANGUAN_CLICKHOUSE_URL"], name
    assert {"kafka", "clickhouse", "prometheus", "alertmanager"} <= set(services)
    for name, s in services.items():  # published on loopback only
        for port in s.get("ports", []):
            assert port["host_ip"] == "127.0.0.1", name


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (("stop_grace_period", "stop_grace_periodx"), "stop_grace_periodx"),
        (("service_completed_successfully", "service_done"), "condition"),
    ],
)
def test_a_broken_compose_file_is_refused(
    checker: Path, tmp_path: Path, change: tuple[str, str], said: str
) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text((COMPOSE / "compose.yaml").read_text().replace(*change, 1))
    done = _config(checker, broken)
    assert done.returncode == 1
    assert said in done.stderr


def test_without_the_passwords_it_says_which(checker: Path) -> None:
    done = subprocess.run(
        [str(checker), str(COMPOSE / "compose.yaml")],
        capture_output=True, text=True, timeout=120, check=False, cwd=COMPOSE,
    )  # fmt: skip
    assert done.returncode == 1
    assert "required variable JIANGUAN_CH_WRITER_PASSWORD is missing a value" in done.stderr
