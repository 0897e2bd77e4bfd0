"""The Java client (sdk/java) against a real gateway: docs/sdk-java.md's example runs as written
(a single-file program on the client's jar), prints what it says, and what it sealed is stored
once with its chain intact; run again as a new process without state, it continues its chain."""

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
    check_two_runs(spine, lambda: _run(source, spine), block, "java-example")
