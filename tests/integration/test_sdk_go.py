"""The Go client (sdk/go) against a real gateway: docs/sdk-go.md's example runs as written, prints
what it says, and what it sealed is stored once with its chains intact; run again as a new
process without state, it continues its chain."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import TOKENS, Spine

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
    # the client's own sums cover everything it needs: nothing is fetched
    shutil.copy(GO_SDK / "go.sum", tmp_path / "go.sum")
    subprocess.run([GO, "mod", "tidy"], cwd=tmp_path, check=True, timeout=300,
                   env={**os.environ, "GOFLAGS": "-mod=mod", "GOPROXY": "off"})  # fmt: skip
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
    promised = [
        line.strip()
        for said in re.findall(r"//\s*prints: (.*)$", block, re.M)
        for line in said.split(" | ")
    ]
    assert _run(binary, spine) == promised == ["ACCEPTED 1", "ACCEPTED 2"]
    # A second process, without state: the platform tells it where the chain stands.
    assert _run(binary, spine) == ["ACCEPTED 3", "ACCEPTED 4"]
    assert spine.wait_stored(4) == 4
    rows = spine.query(
        "SELECT service_id, stream_id, sequence, event_id FROM events ORDER BY sequence"
    )
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("acme-chat", "go-example", n) for n in (1, 2, 3, 4)
    ]
    assert len({r[3] for r in rows}) == 4  # four ids, each stored once
    # The platform's verifier recomputes every hash the Go client sealed.
    proc = subprocess.run(
        [sys.executable, "-m", "jianguan.cli", "verify-chain", "--clickhouse",
         spine.url.secret_url(), "--verbose-ok"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "acme-ai/acme-chat@go-example: intact" in proc.stdout.splitlines()
