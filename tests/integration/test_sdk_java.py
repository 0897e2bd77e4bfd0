"""The Java client (sdk/java) against a real gateway: docs/sdk-java.md's example runs as written
(a single-file program on the client's jar), prints what it says, and what it sealed is stored
once with its chain intact; run again as a new process without state, it continues its chain."""

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
TARGET = ROOT / "sdk" / "java" / "target"
DOC = (ROOT / "docs" / "sdk-java.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```java\n(.*?)```", DOC, re.S)
JAVA = shutil.which("java") or "java is not on PATH"


def _classpath() -> str:
    jars = sorted(TARGET.glob("jianguan-sdk-*.jar"))
    assert jars, "the client's jar is missing: make install builds it"
    return os.pathsep.join([str(jars[0]), str(TARGET / "dependency" / "*")])


def _run(source: Path, spine: Spine) -> list[str]:
    env = {**os.environ, "JIANGUAN_GATEWAY": spine.target, "JIANGUAN_TOKEN": TOKENS["acme-ai"]}
    proc = subprocess.run([JAVA, "-cp", _classpath(), str(source)], env=env,
                          capture_output=True, text=True, timeout=180, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_the_page_has_one_complete_example() -> None:
    assert len(BLOCKS) == 1
    assert "public class Example" in BLOCKS[0]


def test_the_example_reports_to_a_real_gateway_and_continues_its_chain(
    spine: Spine, tmp_path: Path
) -> None:
    block = BLOCKS[0]
    source = tmp_path / "Example.java"
    source.write_text(block, encoding="utf-8")
    promised = [
        line.strip()
        for said in re.findall(r"//\s*prints: (.*)$", block, re.M)
        for line in said.split(" | ")
    ]
    assert _run(source, spine) == promised == ["ACCEPTED 1", "ACCEPTED 2"]
    # A second process, without state: the platform tells it where the chain stands.
    assert _run(source, spine) == ["ACCEPTED 3", "ACCEPTED 4"]
    assert spine.wait_stored(4) == 4
    rows = spine.query(
        "SELECT service_id, stream_id, sequence, event_id FROM events ORDER BY sequence"
    )
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("acme-chat", "java-example", n) for n in (1, 2, 3, 4)
    ]
    assert len({r[3] for r in rows}) == 4  # four ids, each stored once
    # The platform's verifier recomputes every hash the Java client sealed.
    proc = subprocess.run(
        [sys.executable, "-m", "jianguan.cli", "verify-chain", "--clickhouse",
         spine.url.secret_url(), "--verbose-ok"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "acme-ai/acme-chat@java-example: intact" in proc.stdout.splitlines()
