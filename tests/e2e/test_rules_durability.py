"""The rules' state survives the loss of everything: every process of `jianguan up` (broker and
ClickHouse included) is killed while events stream in; on restart the processors restore their
state from its changelog (written in batches, ``processors.state``) or, when the changelog is
gone, rebuild it from the event store before taking new events: either way every open case is
still open, once, and its deadlines still fire."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import threading
from pathlib import Path

import pytest
from aiokafka import TopicPartition

from jianguan.accounts.registry import Provider, ProviderRegistry, token_digest
from jianguan.contracts import pb, topics
from jianguan.processors.rebuild import partition_of
from jianguan.runtime.launcher import RunningUp, launched_up
from jianguan.simulator.sender import Tally, stream_provider
from jianguan.simulator.traffic import ProviderTraffic
from jianguan_sdk.client import IngestClient
from jianguan_sdk.retry import Delivery, publish_reliably
from tests.e2e.running import committed_to_end, query, until
from tests.helpers import chained

pytestmark = pytest.mark.integration
TOKEN = "durable-token"
HITS = 40
# Disposal due 100 s after each hit: after the restart below, so the rebuilt state must fire it.
ENV = {
    "JIANGUAN_RULE_OVERRIDES": json.dumps(
        {"ART14-ILLEGAL-CONTENT": {"disposal_hours": 100 / 3600}}
    ),
    "JIANGUAN_RULE_TICK_SECONDS": "1",
}


def _hits() -> list[pb.event_pb2.Event]:
    events = chained("durable-hit", HITS, service="svc-moderation")
    for ev in events:
        m = ev.moderation
        m.stage = pb.bodies_pb2.MODERATION_STAGE_OUTPUT
        m.risk_category = pb.bodies_pb2.RISK_CATEGORY_VIOLENCE
        m.action = pb.bodies_pb2.MODERATION_ACTION_NONE
    return events


def _kill_everything(up: RunningUp) -> None:
    """SIGKILL the supervisor, its services, and the broker and ClickHouse it started."""
    victims = {up.proc.pid, *up.pids.values()}
    for pid_dir in Path("/proc").iterdir():
        if pid_dir.name.isdigit():
            try:
                cmdline = (pid_dir / "cmdline").read_bytes()
            except OSError:
                continue
            if str(up.state_dir).encode() in cmdline:
                victims.add(int(pid_dir.name))
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    up.proc.wait(30)


# One count per case: the current (highest-revision) row of each fact, read from the raw rows.
CURRENT = (
    "SELECT kind, obligation, count() FROM (SELECT fact_id, argMax(kind, revision) AS kind,"
    " argMax(obligation, revision) AS obligation, argMax(retracted, revision) AS retracted"
    " FROM case_facts WHERE case_id LIKE 'ART14-ILLEGAL-CONTENT:durable-ai:durable-hit-%'"
    " GROUP BY fact_id)"
    " WHERE retracted = 0 GROUP BY kind, obligation ORDER BY kind, obligation"
)


@pytest.mark.parametrize("changelog_lost", [False, True], ids=["changelog-kept", "changelog-lost"])
def test_everything_killed_the_rules_state_comes_back(tmp_path: Path, changelog_lost: bool) -> None:
    registry = ProviderRegistry(
        [Provider("durable-ai", "Durable AI", token_sha256=token_digest(TOKEN))]
    )
    tally = Tally()
    with launched_up(tmp_path, registry, ENV) as up:
        # Background traffic of the realistic mix keeps flowing while everything dies.
        def traffic() -> None:
            src = ProviderTraffic("durable-ai", ("svc-1",), seed=5)
            with contextlib.suppress(Exception):  # the gateway dies under it, on purpose
                asyncio.run(
                    stream_provider(up.gateway, TOKEN, src, 200_000, 200, tally, rate_per_s=2000)
                )

        sender = threading.Thread(target=traffic, daemon=True)
        sender.start()

        async def send() -> Delivery:
            # Through the SDK's delivery: sent right after `up` started, the hits may meet a
            # broker still starting (items UNAVAILABLE), which it sends again.
            async with IngestClient(up.gateway, token=TOKEN) as client:
                return await publish_reliably(client, _hits(), max_attempts=10)

        sent = asyncio.run(send())
        assert (sent.delivered, sent.rejected, sent.undelivered) == (HITS, [], [])
        opened = [(1, "", HITS), (5, "", HITS)]  # opened, and each case's STATUS
        assert until(up, CURRENT, opened, 60) == opened
        # Once the rules have committed past the hits, the log will not deliver them again:
        # after the kill only the event store has them.
        tp = TopicPartition(topics.EVENTS, partition_of("durable-ai", topics.PARTITIONS))
        committed_to_end(up, topics.processors_app_id(), [tp], 60)
        _kill_everything(up)
    lost = [
        p
        for p in (tmp_path / "kafka").rglob(f"*{topics.RULE_STATE_TABLE}-changelog-*")
        if p.is_dir()
    ]
    assert lost, "the rules' changelog was not where the test looks for it"
    if changelog_lost:
        for p in lost:
            shutil.rmtree(p)

    with launched_up(tmp_path, registry, ENV) as up:
        # Still one open case per hit; then every disposal deadline passes and is missed, once.
        missed = [(1, "", HITS), (3, "disposal", HITS), (5, "", HITS)]
        assert until(up, CURRENT, missed, 180) == missed
        cases = "SELECT count(), countIf(closed = 0) FROM cases WHERE subject LIKE 'durable-hit-%'"
        assert query(up, cases) == [(HITS, HITS)]
        logs = [tmp_path / "log" / "processors.log", *(tmp_path / "log").glob("rules-*.log")]
        text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in logs)
        rebuilt = "from the event store (its changelog was missing)" in text
        assert rebuilt == changelog_lost
        # killed: the state the rules kept on disk was not trusted
        assert "the last shutdown was not clean" in text
