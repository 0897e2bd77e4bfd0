"""The README's commands exist as written (make targets are dry-run, jianguan subcommands are
checked against the CLI), so the README never lies."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from jianguan.cli import parser as _parser

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _sh_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    return [
        line.split("#", 1)[0].strip() for b in blocks for line in b.splitlines() if line.strip()
    ]


def test_first_screen_gives_exactly_the_two_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:40])
    assert re.findall(r"^make \w+", first_screen, re.M) == ["make demo", "make test"]


@pytest.mark.parametrize("command", _sh_commands())
def test_make_targets_exist(command: str) -> None:
    words = shlex.split(command)
    assert words[0] == "make"
    make = shutil.which("make")
    assert make is not None
    proc = subprocess.run(
        [make, "-n", *words[1:]], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_every_jianguan_subcommand_named_in_the_readme_exists() -> None:
    named = set(re.findall(r"`jianguan ([a-z-]+)", README))
    parser = _parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert named
    assert named <= set(sub.choices), named - set(sub.choices)  # type: ignore[arg-type]
