"""The SDK is a distribution of its own: it builds as a pure-Python wheel, installs into a clean
environment with grpcio and protobuf only (no platform, no broker, no compiler), and its own test
suite passes there against the installed wheel."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "sdk" / "python"
# What the wheel may bring: itself, its two dependencies, what they need, the venv's own tools.
ALLOWED = {"jianguan-sdk", "grpcio", "protobuf", "typing-extensions", "typing_extensions"}
TOOLS = {"pip", "setuptools", "wheel"}
MAX_INSTALLED_BYTES = 2 * 1024 * 1024  # the SDK itself, generated code included


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # A copy: building in place would leave build/ and *.egg-info in the checkout.
    src = out / "src"
    shutil.copytree(SDK, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, src)
    (found,) = out.glob("jianguan_sdk-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    env = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", env)
    _run(env / "bin" / "python", "-m", "pip", "install", "-q", wheel)
    return env


def test_the_wheel_is_pure_python(wheel: Path) -> None:
    assert wheel.name.endswith("-py3-none-any.whl"), wheel.name
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert not [n for n in names if n.endswith((".so", ".pyd", ".c"))]
    assert "jianguan_sdk/_proto/jianguan/v1/event_pb2.py" in names
    assert "jianguan_sdk/py.typed" in names
    requires = sorted(
        line.split(":", 1)[1].strip()
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    )
    assert requires == ["grpcio<2,>=1.85.1", "protobuf<8,>=7.35.1"]
    assert "Requires-Python: >=3.10" in metadata


def test_it_installs_with_grpcio_and_protobuf_only(venv: Path) -> None:
    listed = json.loads(_run(venv / "bin" / "python", "-m", "pip", "list", "--format", "json"))
    names = {p["name"].lower() for p in listed} - TOOLS
    assert names <= ALLOWED, names - ALLOWED
    assert {"jianguan-sdk", "grpcio", "protobuf"} <= names
    site = Path(
        _run(
            venv / "bin" / "python", "-c", "import jianguan_sdk, os; print(jianguan_sdk.__file__)"
        ).strip()
    ).parent
    assert str(site).startswith(str(venv)), site  # the installed wheel, not the checkout
    size = sum(f.stat().st_size for f in site.rglob("*") if f.is_file())
    assert size < MAX_INSTALLED_BYTES, size
    # The platform is not there, and nothing of the SDK's needs it.
    probe = subprocess.run(
        [venv / "bin" / "python", "-c", "import jianguan"], capture_output=True, timeout=60
    )
    assert probe.returncode != 0


def test_its_own_suite_passes_against_the_installed_wheel(venv: Path, tmp_path: Path) -> None:
    # what the suite itself needs: pytest, and the otel extra's dependency for its exporter test
    _run(
        venv / "bin" / "python",
        "-m",
        "pip",
        "install",
        "-q",
        "pytest",
        "opentelemetry-sdk>=1.20,<2",
    )
    tests = tmp_path / "tests"
    shutil.copytree(SDK / "tests", tests, ignore=shutil.ignore_patterns("__pycache__"))
    out = _run(
        venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", tests, cwd=tmp_path
    )
    summary = out.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ passed in .*", summary), out  # none failed, skipped or in error
