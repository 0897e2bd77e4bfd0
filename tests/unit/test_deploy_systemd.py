"""deploy/systemd: every unit is one `systemd-analyze verify` finds nothing to say of, runs a real
`jianguan` command, and every service process `jianguan up` runs has its unit."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.unit.deploy_commands import SERVICES, command_of

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
INSTALLED = "/opt/jianguan/venv/bin/jianguan"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze") or "systemd-analyze is not installed"


def _exec_starts() -> dict[str, list[str]]:
    out = {}
    for unit in sorted(UNITS.glob("*.service")):
        lines = [ln for ln in unit.read_text().splitlines() if ln.startswith("ExecStart=")]
        assert len(lines) == 1, unit.name
        out[unit.name] = lines[0].removeprefix("ExecStart=").split()
    return out


def test_systemd_analyze_verify_finds_nothing_to_say(tmp_path: Path) -> None:
    jianguan = Path(sys.executable).parent / "jianguan"
    assert jianguan.exists()
    names = []
    for unit in sorted(UNITS.glob("jianguan*")):
        if unit.suffix not in (".service", ".target"):
            continue
        name = unit.name.replace("@.service", "@2.service")  # a template: one instance of it
        (tmp_path / name).write_text(unit.read_text().replace(INSTALLED, str(jianguan)))
        names.append(f"./{name}")
    assert len(names) == 7
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", "--man=no", *names],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr  # an unknown key is only a warning: none allowed


def test_every_unit_runs_a_real_command_and_every_service_has_a_unit() -> None:
    commands: set[str] = set()
    for unit, argv in _exec_starts().items():
        assert argv[0] == INSTALLED, unit
        commands.add(command_of(argv[1:]))
    assert commands >= SERVICES
    target = (UNITS / "jianguan.target").read_text()
    for name in SERVICES:
        assert f"jianguan-{name}.service" in target
