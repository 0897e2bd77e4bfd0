"""Every scenario through the rules engine as replay runs it: exactly the expected facts, and
each case's STATUS saying what its steps say."""

from __future__ import annotations

import time
from collections import defaultdict

import pytest

from jianguan.contracts import pb
from jianguan.processors.engine import RulesEngine
from tests.scenarios.library import Scenario, load_all, standing

SCENARIOS = load_all()
K = pb.cases_pb2


def stored(scenario: Scenario, now: float) -> list[K.CaseFact]:
    """The facts a store holds after the history (``standing``)."""
    engine = RulesEngine({})
    facts = engine.process(scenario.observations(), now=now)
    return standing(facts + engine.tick(now))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_scenario_produces_exactly_its_facts(scenario: Scenario) -> None:
    name = K.CaseFactKind.Name
    steps = {
        (f.rule_id, f.subject, name(f.kind).removeprefix("CASE_FACT_KIND_"), f.obligation)
        for f in stored(scenario, time.time())
        if f.kind != K.CASE_FACT_KIND_STATUS
    }
    assert steps == scenario.facts


def _obligations(facts: list[K.CaseFact], kind: int) -> list[str]:
    return sorted(f.obligation for f in facts if f.kind == kind)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_each_case_status_says_what_its_steps_say(scenario: Scenario) -> None:
    by_case: dict[str, list[K.CaseFact]] = defaultdict(list)
    for f in stored(scenario, time.time()):
        by_case[f.case_id].append(f)
    for case_id, facts in by_case.items():
        (status,) = [f for f in facts if f.kind == K.CASE_FACT_KIND_STATUS]
        (opened,) = [f for f in facts if f.kind == K.CASE_FACT_KIND_OPENED]
        met = _obligations(facts, K.CASE_FACT_KIND_OBLIGATION_MET)
        missed = _obligations(facts, K.CASE_FACT_KIND_DEADLINE_MISSED)
        assert (list(status.obligations_met), list(status.obligations_missed)) == (met, missed)
        closed = [f.at for f in facts if f.kind == K.CASE_FACT_KIND_CLOSED]
        assert status.HasField("closed_at") == bool(closed), case_id
        if closed:
            assert status.closed_at == closed[0]
        assert (status.at, status.event_id) == (opened.at, opened.event_id)
        assert (status.rule_id, status.article, status.severity, status.service_id) == (
            opened.rule_id, opened.article, opened.severity, opened.service_id,
        )  # fmt: skip
