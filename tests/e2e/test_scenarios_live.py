"""The scenario library through the real stack: gateway → Kafka → faust rules → ClickHouse.
Each scenario must produce exactly its facts, live, as it does in replay."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from jianguan.accounts.registry import Authority, Provider, ProviderRegistry, token_digest
from jianguan.runtime.launcher import launched_up
from jianguan.simulator.authority import record_actions
from jianguan.store.executor import ServerExecutor
from jianguan_sdk.client import IngestClient
from tests.scenarios.library import load_all

pytestmark = pytest.mark.integration
KIND = {1: "OPENED", 2: "OBLIGATION_MET", 3: "DEADLINE_MISSED", 4: "CLOSED"}


def test_every_scenario_live(tmp_path: Path) -> None:
    scenarios = load_all()
    authorities = sorted({who for s in scenarios for who, _ in s.actions})
    registry = ProviderRegistry(
        [Provider(s.provider_id, s.name, token_sha256=token_digest(s.name)) for s in scenarios],
        [Authority(a, a, token_digest(f"token-{a}")) for a in authorities],
    )
    env = {"JIANGUAN_RULE_TICK_SECONDS": "1", "JIANGUAN_CHECK_INTERVAL_SECONDS": "1"}
    with launched_up(tmp_path, registry, env) as up:

        async def send_all() -> list[int]:
            accepted = []
            for s in scenarios:
                async with IngestClient(up.gateway, token=s.name) as client:
                    accepted.append((await client.publish_batch(s.events)).accepted)
            return accepted

        assert asyncio.run(send_all()) == [len(s.events) for s in scenarios]
        # the authorities' side of the histories, with each authority's own token
        for authority in sorted({who for s in scenarios for who, _ in s.actions}):
            mine = [a for s in scenarios for who, a in s.actions if who == authority]
            acks = asyncio.run(record_actions(up.gateway, f"token-{authority}", mine))
            assert all(a.recorded for a in acks), acks
        expected = {s.provider_id: s.facts for s in scenarios if s.facts}
        expected_alerts = {
            s.provider_id: {(r, tuple(e) if e else None) for r, e in s.alerts.items()}
            for s in scenarios
            if s.alerts
        }
        ids = {s.provider_id: {ev.envelope.event_id for ev in s.events} for s in scenarios}
        got: dict[str, set[tuple[str, str, str, str]]] = {}
        got_alerts: dict[str, set[tuple[str, tuple[str, ...] | None]]] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            ex = ServerExecutor(up.writer_url)
            try:
                rows = ex.execute(
                    "SELECT provider_id, rule_id, subject, kind, obligation FROM case_facts FINAL"
                    " WHERE kind IN %(steps)s AND retracted = 0",
                    {"steps": tuple(KIND)},
                )
                alert_rows = ex.execute(
                    "SELECT provider_id, rule_id, evidence FROM alerts FINAL"
                    " WHERE alert_id NOT LIKE '%/DEADLINE_MISSED/%'"
                )
            finally:
                ex.close()
            got, got_alerts = {}, {}
            for provider, rule, subject, kind, obligation in rows:
                got.setdefault(provider, set()).add((rule, subject, KIND[kind], obligation))
            for provider, rule, evidence in alert_rows:
                if provider == "":  # an offshore alert: the scenario whose events it cites
                    provider = next(
                        (s.provider_id for s in scenarios if set(evidence) <= ids[s.provider_id]),
                        "",
                    )
                # A scenario may leave the evidence open (null): compare the rule alone.
                any_evidence = (rule, None) in expected_alerts.get(provider, set())
                shown = None if any_evidence else tuple(evidence)
                got_alerts.setdefault(provider, set()).add((rule, shown))
            if got == expected and got_alerts == expected_alerts:
                break
            time.sleep(1)
        for provider, facts in expected.items():
            assert got.get(provider, set()) == facts, provider
        assert got_alerts == expected_alerts
        # The compliance grade over the same live data: compliant A, two misses B.
        ex = ServerExecutor(up.writer_url)
        try:
            grades = dict(ex.execute("SELECT provider_id, grade FROM report_cards"))
        finally:
            ex.close()
        assert grades["sc-illegal-output-handled"] == "A"
        assert grades["sc-illegal-output-unreported"] == "B"
