"""docs/sdk.md never lies: every python example runs against a real gateway, and every line
marked ``# prints: …`` prints that."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from tests.integration.conftest import TOKENS, Spine

pytestmark = pytest.mark.integration
DOC = (Path(__file__).resolve().parents[2] / "docs" / "sdk.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", DOC, re.S)


def test_the_guide_has_examples() -> None:
    assert len(BLOCKS) >= 7


def test_every_example_runs_and_prints_what_it_says(
    spine: Spine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for i, block in enumerate(BLOCKS):
        out = io.StringIO()
        namespace = {"GATEWAY": spine.target, "TOKEN": TOKENS["acme-ai"], "__name__": f"doc{i}"}
        with contextlib.redirect_stdout(out):
            exec(compile(block, f"docs/sdk.md example {i + 1}", "exec"), namespace)  # noqa: S102
        printed = out.getvalue().splitlines()
        promised = re.findall(r"#\s*prints: (.*)$", block, re.M)
        assert len(printed) == len(promised), (i + 1, printed)
        for line, want in zip(printed, promised, strict=True):
            assert line.strip() == want.strip(), f"example {i + 1}"
    # 1 + 2 (answers to an authority) + 1 (a safety evaluation) + 3 (a correction) + 3 + 1000 +
    # 2 (a replica, twice) + 3 (resumed spool) + 1 (a traced call) + 1 (an OTLP export) + 2
    # (batch) events reached the store.
    assert spine.wait_stored(1019) == 1019
