"""What the Go and Java pages' examples (docs/sdk-go.md, docs/sdk-java.md) must do against a
real gateway, said once: print what their ``// prints:`` comments say, run again as a new process
without state continue the chain, and leave it intact in the store."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.integration.conftest import Spine, verified_chains


def promised(block: str) -> list[str]:
    """The lines ``// prints: a | b`` comments promise, in order."""
    return [
        line.strip()
        for said in re.findall(r"//\s*prints: (.*)$", block, re.M)
        for line in said.split(" | ")
    ]


def check_two_runs(spine: Spine, run: Callable[[], list[str]], block: str, stream: str) -> None:
    assert run() == promised(block) == ["ACCEPTED 1", "ACCEPTED 2"]
    # A second process, without state: the platform tells it where the chain stands.
    assert run() == ["ACCEPTED 3", "ACCEPTED 4"]
    assert spine.wait_stored(4) == 4
    rows = spine.query(
        "SELECT service_id, stream_id, sequence, event_id FROM events ORDER BY sequence"
    )
    assert [(r[0], r[1], r[2]) for r in rows] == [("acme-chat", stream, n) for n in (1, 2, 3, 4)]
    assert len({r[3] for r in rows}) == 4  # four ids, each stored once
    # The platform's verifier recomputes every hash the client sealed.
    assert f"acme-ai/acme-chat@{stream}: intact" in verified_chains(spine.url)
