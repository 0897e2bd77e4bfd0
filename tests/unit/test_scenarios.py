"""Every scenario through the rules engine as replay runs it: exactly the expected facts."""

from __future__ import annotations

import pytest

from jianguan.contracts import pb
from jianguan.contracts.observed import observed
from jianguan.processors.engine import RulesEngine
from tests.scenarios.library import Scenario, load_all

SCENARIOS = load_all()


def facts_of(scenario: Scenario, now: float) -> set[tuple[str, str, str, str]]:
    engine = RulesEngine({})
    seen = [observed(ev, scenario.provider_id) for ev in scenario.events]
    facts = engine.process([s for s in seen if s is not None], now=now)
    facts += engine.tick(now)
    name = pb.cases_pb2.CaseFactKind.Name
    return {
        (f.rule_id, f.subject, name(f.kind).removeprefix("CASE_FACT_KIND_"), f.obligation)
        for f in facts
    }


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_scenario_produces_exactly_its_facts(scenario: Scenario) -> None:
    import time

    assert facts_of(scenario, time.time()) == scenario.facts
