"""Corrections and retractions in the rules host: a withdrawn event leaves the units it was in,
whichever of it and its withdrawal arrives first, and its cases are decided afresh."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from jianguan.contracts import pb
from jianguan.domain import registrations
from jianguan.domain.events import Observed
from jianguan.processors.engine import RulesEngine
from tests.unit.test_engine import PUBLISHED

T0 = 1_780_000_000.0
K = pb.cases_pb2
DAY = 86400.0


def _complaint(event_id: str, at: float, status: str = "RECEIVED", **kw: str) -> Observed:
    body = {"complaint_id": "c", "status": status}
    return Observed("acme", "svc", event_id, "complaint", at, body, **kw)


def _retraction(event_id: str, gone: str, at: float) -> Observed:
    body = {"retracted_event_id": gone, "reason": "reported in error"}
    return Observed("acme", "svc", event_id, "retraction", at, body)


def _hit(event_id: str, at: float, category: str = "VIOLENCE", **kw: str) -> Observed:
    body = {"stage": "OUTPUT", "risk_category": category, "action": "NONE"}
    return Observed("acme", "svc", event_id, "moderation", at, body, **kw)


def _cases(facts: list[K.CaseFact]) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Each case's obligations met and missed, from the facts published (the last of each fact
    id standing; a retraction takes its fact away)."""
    standing: dict[str, K.CaseFact] = {}
    for f in facts:
        if f.retracted:
            standing.pop(f.fact_id, None)
        else:
            standing[f.fact_id] = f
    return {
        f.case_id: (tuple(f.obligations_met), tuple(f.obligations_missed))
        for f in standing.values()
        if f.kind == K.CASE_FACT_KIND_STATUS
    }


def _run(order: list[Observed], now: float) -> tuple[list[K.CaseFact], RulesEngine]:
    engine = RulesEngine({})
    facts = []
    for ev in order:
        facts += engine.process([ev], now=now)
    facts += engine.tick(now)
    return facts, engine


def test_a_retracted_resolution_reopens_the_complaint_in_any_order() -> None:
    """A provider reported a complaint resolved by mistake and retracts the report: the
    resolution no longer counts, and once its deadline passes the complaint is overdue."""
    received = _complaint("c-rcv", T0)
    resolved = _complaint("c-res", T0 + 3600, status="RESOLVED")
    retracted = _retraction("r-1", "c-res", T0 + 7200)
    now = T0 + 30 * DAY
    seen = set()
    for order in itertools.permutations([received, resolved, retracted]):
        facts, _ = _run(list(order), now)
        seen.add(tuple(sorted(_cases(facts).items())))
    (only,) = seen  # the same cases whatever the order
    ((case_id, (met, missed)),) = only
    assert case_id.startswith("ART15-COMPLAINT:acme:")
    assert ("resolve" in missed, "resolve" in met) == (True, False)
    # without the retraction the complaint was resolved in time
    facts, _ = _run([received, resolved], now)
    ((_, (met, missed)),) = _cases(facts).items()
    assert ("resolve" in met, "resolve" in missed) == (True, False)


def test_a_corrected_category_closes_the_case_the_original_opened() -> None:
    """A moderation hit reported as violence (Art. 14 case) is corrected to discrimination
    (no illegal-content case): the case opened by the original is retracted."""
    hit = _hit("m1", T0)
    corrected = _hit("m1-fix", T0 + 60, category="DISCRIMINATION_GENDER", corrects="m1")
    facts, engine = _run([hit], T0 + 10)
    assert any(f.kind == K.CASE_FACT_KIND_OPENED for f in facts)
    later = engine.process([corrected], now=T0 + 120) + engine.tick(T0 + 30 * DAY)
    assert _cases(facts + later) == {}
    assert sorted(f.fact_id for f in later if f.retracted) == sorted(f.fact_id for f in facts)
    # the correction first, then the original: no case at all, nothing to retract
    assert _run([corrected, hit], T0 + 30 * DAY)[0] == []


def test_a_redelivered_original_or_withdrawal_changes_nothing() -> None:
    received, resolved = _complaint("c-rcv", T0), _complaint("c-res", T0 + 60, "RESOLVED")
    retracted = _retraction("r-1", "c-res", T0 + 120)
    _, engine = _run([received, resolved, retracted], T0 + 200)
    before = dict(engine.store)
    assert engine.process([resolved, retracted, resolved], now=T0 + 300) == []
    assert dict(engine.store) == before


def test_a_withdrawn_event_of_another_provider_is_untouched() -> None:
    mine = _hit("m1", T0)
    theirs = replace(_retraction("r-1", "m1", T0 + 60), provider_id="other")
    facts, _ = _run([mine, theirs], T0 + 120)
    assert any(f.kind == K.CASE_FACT_KIND_OPENED for f in facts)
    assert not any(f.retracted for f in facts)
    assert len(_cases(facts)) == 1


@pytest.mark.parametrize("first", ["registration", "correction"])
def test_a_corrected_registration_sets_the_deadline_of_its_complaints(first: str) -> None:
    """A registration published a 3-day complaint deadline by mistake; its correction publishes
    15: a complaint received after it is due in 15 days, whichever arrived first."""
    body = {
        "kind": "REGISTRATION", "status": "GRANTED", "complaint_deadline_days": 3,
        "complaint_channel_url": "https://example.cn/c", **PUBLISHED,
    }  # fmt: skip
    wrong = Observed("acme", "svc", "reg-1", "service_filing", T0, body)
    fixed = Observed(
        "acme", "svc", "reg-2", "service_filing", T0 + 60,
        {**body, "complaint_deadline_days": 15}, corrects="reg-1",
    )  # fmt: skip
    complaint = _complaint("c-rcv", T0 + 120)
    events = [wrong, complaint, fixed] if first == "registration" else [fixed, complaint, wrong]
    facts, engine = _run(events, T0 + 120 + 5 * DAY)  # 5 days after the complaint
    ((_, (_, missed)),) = _cases(facts).items()
    assert "resolve" not in missed
    assert "registrations|acme/svc/reg-1" not in engine.store
    # under the mistaken registration alone, it would be overdue
    facts, _ = _run([wrong, complaint], T0 + 120 + 5 * DAY)
    ((_, (_, missed)),) = _cases(facts).items()
    assert "resolve" in missed


def test_removing_a_registration_names_the_span_it_was_in_force() -> None:
    history = [(0.0, "a", 3.0, False), (10.0, "b", 5.0, False), (20.0, "c", 7.0, False)]
    assert registrations.remove(history, "b") == (10.0, 20.0)
    assert [e[1] for e in history] == ["a", "c"]
    assert registrations.remove(history, "c") == (20.0, float("inf"))
    assert registrations.remove(history, "zz") is None
