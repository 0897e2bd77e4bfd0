"""The Go client (sdk/go) against a real gateway: docs/sdk-go.md's example runs as written, prints
what it says, and what it sealed is stored once with its chains intact; run again as a new
process without state, it continues its chain."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import TOKENS, Spine
from tests.integration.sdk_examples import check_two_runs

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
GO_SDK = ROOT / "sdk" / "go"
DOC = (ROOT / "docs" / "sdk-go.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```go\n(.*?)```", DOC, re.S)
GO = shutil.which("go") or "go is not on PATH"


def _module(tmp_path: Path, source: str) -> Path:
    """A module of the provider's own, pointed at the client as the page says."""
    (tmp_path / "main.go").write_text(source, encoding="utf-8")
    (tmp_path / "go.mod").write_text(
        "module example.com/provider\n\ngo 1.26.0\n\n"
        "require github.com/jianguan/jianguan/sdk/go v0.0.0\n\n"
        f"replace github.com/jianguan/jianguan/sdk/go => {GO_SDK}\n",
        encoding="utf-8",
    )
    # as a provider would: `go mod tidy` completes the module graph (the tests of the client's
    # dependencies need modules its build does not, e.g. go-cmp: fetched from the module proxy
    # when the cache lacks them), the client's own sums start the file
    shutil.copy(GO_SDK / "go.sum", tmp_path / "go.sum")
    subprocess.run([GO, "mod", "tidy"], cwd=tmp_path, check=True, timeout=300,
                   env={**os.environ, "GOFLAGS": "-mod=mod"})  # fmt: skip
    subprocess.run([GO, "build", "-o", "example", "."], cwd=tmp_path, check=True, timeout=600)
    return tmp_path / "example"


def _run(binary: Path, spine: Spine) -> list[str]:
    env = {**os.environ, "JIANGUAN_GATEWAY": spine.target, "JIANGUAN_TOKEN": TOKENS["acme-ai"]}
    proc = subprocess.run([binary], env=env, capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_the_page_has_one_complete_example() -> None:
    assert len(BLOCKS) == 1
    assert BLOCKS[0].startswith("package main\n")


def test_the_example_reports_to_a_real_gateway_and_continues_its_chain(
    spine: Spine, tmp_path: Path
) -> None:
    block = BLOCKS[0]
    binary = _module(tmp_path, block)
    check_two_runs(spine, lambda: _run(binary, spine), block, "go-example")
