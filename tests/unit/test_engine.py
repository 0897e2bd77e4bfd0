"""The rules host over a plain dict: what live processing and replay both run."""

import math

from jianguan.contracts import pb
from jianguan.contracts.facts import alert, decode_unit, encode_unit, next_due
from jianguan.domain.calendar import end_of_days_after
from jianguan.domain.events import Observed
from jianguan.processors import engine as host

T0 = 1_780_000_000.0
K = pb.cases_pb2


# What a registration publishes besides its complaint process (Art. 9 ¶2, Art. 10 ¶1), so that
# only the complaint rules read these registrations.
PUBLISHED = {
    "intended_users": "adults", "intended_uses": "chat", "usage_policy_url": "https://x.cn/u",
    "user_agreement_version": "v1", "user_agreement_url": "https://x.cn/a",
}  # fmt: skip


def _steps(facts: list[K.CaseFact]) -> list[K.CaseFact]:
    """The case's steps, without the STATUS facts (their own test is below)."""
    return [f for f in facts if f.kind != K.CASE_FACT_KIND_STATUS]


class RulesEngine(host.RulesEngine):
    """The host, answering only the steps of cases."""

    def process(self, events, now):  # type: ignore[no-untyped-def]
        return _steps(super().process(events, now))

    def tick(self, now, provider_id=None):  # type: ignore[no-untyped-def]
        return _steps(super().tick(now, provider_id))


def _hit() -> Observed:
    body = {"stage": "OUTPUT", "risk_category": "VIOLENCE", "action": "NONE"}
    return Observed("acme", "svc", "m1", "moderation", T0, body)


def test_facts_cite_rule_and_article_and_have_stable_ids() -> None:
    engine = RulesEngine({})
    (opened,) = engine.process([_hit()], now=T0 + 1)
    assert opened.kind == K.CASE_FACT_KIND_OPENED
    assert (opened.rule_id, opened.article, opened.severity) == (
        "ART14-ILLEGAL-CONTENT", "Art. 14 ¶1", "critical",
    )  # fmt: skip
    assert opened.fact_id == "ART14-ILLEGAL-CONTENT:acme:m1/OPENED/"
    assert {d.obligation for d in opened.dues} == {"disposal", "report", "rectification"}
    missed = engine.tick(T0 + 2 * 3600)
    assert [(f.kind, f.obligation) for f in missed] == [
        (K.CASE_FACT_KIND_DEADLINE_MISSED, "disposal")
    ]
    raised = alert(missed[0])
    assert raised is not None
    assert raised.alert_id == missed[0].fact_id
    assert "Art. 14 ¶1" in raised.summary
    assert engine.tick(T0 + 3 * 3600) == []


def test_registration_sets_the_complaint_deadline() -> None:
    store: dict[str, bytes] = {}
    engine = RulesEngine(store)
    filing = Observed(
        "acme", "svc", "f1", "service_filing", T0,
        {"kind": "REGISTRATION", "status": "GRANTED", "complaint_deadline_days": 3,
         "complaint_channel_url": "https://example.cn/complaints", **PUBLISHED},
    )  # fmt: skip
    complaint = Observed(
        "acme", "svc", "c1", "complaint", T0 + 10, {"complaint_id": "c", "status": "RECEIVED"}
    )
    (opened,) = engine.process([filing, complaint], now=T0)
    dues = {d.obligation: d.due.seconds for d in opened.dues}
    assert dues["resolve"] == int(end_of_days_after(T0 + 10, 3))


def _units(engine: host.RulesEngine) -> dict[str, bytes]:
    """The store's units (not its indexes)."""
    return {k: v for k, v in engine.store.items() if k.partition("|")[0] in engine.rules}


def test_a_unit_round_trips() -> None:
    engine = RulesEngine({})
    engine.process([_hit()], now=T0)
    (raw,) = _units(engine).values()
    assert encode_unit(decode_unit(raw)) == raw


def test_a_unit_names_the_next_instant_the_clock_changes_it() -> None:
    store: dict[str, bytes] = {}
    engine = RulesEngine(store)
    engine.process([_hit()], now=T0)
    (key,) = _units(engine)
    first = T0 + 3600  # disposal
    assert next_due(store[key]) == first
    # Until then the clock changes nothing; at it, the disposal is missed and the report is next.
    assert engine.tick(first - 1) == []
    assert engine.tick(first) == []
    assert [f.obligation for f in engine.tick(first + 1)] == ["disposal"]
    assert next_due(store[key]) == T0 + 24 * 3600
    engine.tick(T0 + 30 * 86400)  # everything missed: nothing left pending
    assert next_due(store[key]) == math.inf


def test_a_restarted_engine_finds_the_due_units_in_its_store() -> None:
    store: dict[str, bytes] = {}
    RulesEngine(store).process([_hit()], now=T0)
    again = RulesEngine(store)  # e.g. after a restart, the changelog restored the store
    assert [f.obligation for f in again.tick(T0 + 2 * 3600)] == ["disposal"]


def test_redelivered_events_change_nothing() -> None:
    store: dict[str, bytes] = {}
    engine = RulesEngine(store)
    assert engine.process([_hit()], now=T0)
    before = dict(store)
    assert engine.process([_hit(), _hit()], now=T0 + 5) == []
    assert store == before


def test_a_registration_arriving_after_the_complaint_moves_its_deadline() -> None:
    engine = RulesEngine({})
    complaint = Observed(
        "acme", "svc", "c1", "complaint", T0 + 10, {"complaint_id": "c", "status": "RECEIVED"}
    )
    (opened,) = engine.process([complaint], now=T0 + 20)
    assert {d.obligation: d.due.seconds for d in opened.dues}["resolve"] == int(
        end_of_days_after(T0 + 10, 15)
    )
    filing = Observed(
        "acme", "svc", "f1", "service_filing", T0,
        {"kind": "REGISTRATION", "status": "GRANTED", "complaint_deadline_days": 3,
         "complaint_channel_url": "https://example.cn/complaints", **PUBLISHED},
    )  # fmt: skip
    revised = engine.process([filing], now=T0 + 30)
    (reopened,) = [f for f in revised if f.kind == K.CASE_FACT_KIND_OPENED]
    assert reopened.revision > opened.revision
    assert {d.obligation: d.due.seconds for d in reopened.dues}["resolve"] == int(
        end_of_days_after(T0 + 10, 3)
    )
    assert {p.name: p.value for p in reopened.parameters}[
        "resolve_days_source"
    ] == "registration f1"


def test_a_late_registration_revises_only_its_services_complaints_received_after_it() -> None:
    """The receipt index lives in the store: a restarted engine (a store restored from the
    changelog) still finds the complaints a registration arriving late changes."""
    store: dict[str, bytes] = {}

    def complaint(event_id: str, service: str, at: float) -> Observed:
        body = {"complaint_id": event_id, "status": "RECEIVED"}
        return Observed("acme", service, event_id, "complaint", at, body)

    RulesEngine(store).process(
        [complaint("early", "svc", T0 - 10), complaint("c1", "svc", T0 + 10),
         complaint("c2", "svc", T0 + 20), complaint("other", "svc2", T0 + 10)],
        now=T0 + 30,
    )  # fmt: skip
    filing = Observed(
        "acme", "svc", "f1", "service_filing", T0,
        {"kind": "REGISTRATION", "status": "GRANTED", "complaint_deadline_days": 3,
         "complaint_channel_url": "https://example.cn/complaints", **PUBLISHED},
    )  # fmt: skip
    revised = RulesEngine(store).process([filing], now=T0 + 40)
    reopened = {f.subject for f in revised if f.kind == K.CASE_FACT_KIND_OPENED}
    assert reopened == {"c1", "c2"}


def test_irrelevant_events_touch_nothing() -> None:
    store: dict[str, bytes] = {}
    gen = Observed("acme", "svc", "g", "generation", T0, {"operation_name": "CHAT"})
    assert RulesEngine(store).process([gen], now=T0) == []
    assert store == {}


def test_the_catalog_marks_exactly_the_enforced_rules_active() -> None:
    from jianguan.domain.rules.catalog import CATALOG

    enforced = set(RulesEngine({}).rules)
    from jianguan.store.checks import CHECKS

    # the report_cards view (migration 0004) and the store checks
    projections = {"ART16-GRADE"} | {c.rule_id for c in CHECKS}
    assert enforced | projections == {r.id for r in CATALOG if r.active}


def _input_hit(
    event_id: str, at: float, user: str = "u_1", category: str = "TERRORISM_EXTREMISM"
) -> Observed:
    body = {"stage": "INPUT", "risk_category": category, "action": "BLOCKED", "user_ref": user}
    return Observed("acme", "svc", event_id, "moderation", at, body)


def _enforcement(event_id: str, at: float, reported: bool = True) -> Observed:
    body = {"action": "SUSPEND", "user_ref": "u_1", "record_kept": True,
            "reported_to_authority": reported, "reason_event_ids": ("i0",)}  # fmt: skip
    return Observed("acme", "svc", event_id, "user_enforcement", at, body)


def _kinds(facts: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [
        (K.CaseFactKind.Name(f.kind).removeprefix("CASE_FACT_KIND_"), f.obligation) for f in facts
    ]


def test_three_illegal_inputs_require_enforcement_kept_and_reported() -> None:
    engine = RulesEngine({})
    facts = engine.process([_input_hit(f"i{n}", T0 + n) for n in range(3)], now=T0)
    assert _kinds(facts) == [("OPENED", "")]
    assert facts[0].case_id == "ART14-USER-ENFORCEMENT:acme:u_1#1"
    done = engine.process([_enforcement("e1", T0 + 3600)], now=T0)
    assert _kinds(done) == [("OBLIGATION_MET", "enforcement"), ("OBLIGATION_MET", "report"),
                            ("CLOSED", "")]  # fmt: skip


def test_enforcement_in_between_resets_the_consecutive_count_but_not_the_daily_one() -> None:
    engine = RulesEngine({})
    first = [_input_hit("a", T0), _input_hit("b", T0 + 1), _enforcement("w", T0 + 2)]
    second = [_input_hit("c", T0 + 3), _input_hit("d", T0 + 4)]
    assert engine.process(first + second, now=T0) == []
    (opened,) = engine.process([_input_hit("e", T0 + 5)], now=T0)  # 5th today
    assert opened.case_id.endswith("u_1#1")
    missed = engine.tick(T0 + 5 + 24 * 3600 + 1)
    assert sorted(f.obligation for f in missed) == ["enforcement", "report"]


def test_unreported_enforcement_leaves_the_report_obligation_open() -> None:
    engine = RulesEngine({})
    engine.process([_input_hit(f"i{n}", T0 + n) for n in range(3)], now=T0)
    facts = engine.process([_enforcement("e1", T0 + 60, reported=False)], now=T0)
    assert _kinds(facts) == [("OBLIGATION_MET", "enforcement")]


def test_a_warning_then_a_reported_suspension_meets_the_report_and_closes_the_case() -> None:
    engine = RulesEngine({})
    engine.process([_input_hit(f"i{n}", T0 + n) for n in range(3)], now=T0)
    warned = engine.process([_enforcement("warn", T0 + 60, reported=False)], now=T0 + 61)
    assert _kinds(warned) == [("OBLIGATION_MET", "enforcement")]
    suspended = engine.process([_enforcement("suspend", T0 + 600)], now=T0 + 601)
    assert _kinds(suspended) == [("OBLIGATION_MET", "report"), ("CLOSED", "")]
    (report,) = [f for f in suspended if f.obligation == "report"]
    assert report.event_id == "suspend"
    # a second hit streak after it opens a new case, which the earlier report does not meet
    again = engine.process([_input_hit(f"j{n}", T0 + 700 + n) for n in range(3)], now=T0 + 800)
    assert _kinds(again) == [("OPENED", "")]
    assert again[0].case_id.endswith("#2")


def _report(event_id: str, at: float, cites: tuple[str, ...] = ("i0",)) -> Observed:
    body = {"authority": "CAC-BJ", "user_ref": "u_1", "related_event_ids": cites}
    return Observed("acme", "svc", event_id, "incident_report", at, body)


def test_an_incident_report_naming_the_user_is_the_report() -> None:
    engine = RulesEngine({})
    engine.process([_input_hit(f"i{n}", T0 + n) for n in range(3)], now=T0)
    engine.process([_enforcement("warn", T0 + 60, reported=False)], now=T0 + 61)
    reported = engine.process([_report("rep", T0 + 600)], now=T0 + 601)
    assert _kinds(reported) == [("OBLIGATION_MET", "report"), ("CLOSED", "")]
    assert reported[0].event_id == "rep"


def test_a_report_before_the_enforcement_counts_and_is_no_enforcement() -> None:
    engine = RulesEngine({})
    engine.process([_input_hit(f"i{n}", T0 + n) for n in range(3)], now=T0)
    reported = engine.process([_report("rep", T0 + 60)], now=T0 + 61)
    assert _kinds(reported) == [("OBLIGATION_MET", "report")]
    # the report neither met the enforcement nor restarted the count: two more hits open no case
    assert engine.process([_input_hit("i3", T0 + 70)], now=T0 + 71) == []
    warned = engine.process([_enforcement("warn", T0 + 120, reported=False)], now=T0 + 121)
    assert _kinds(warned) == [("OBLIGATION_MET", "enforcement"), ("CLOSED", "")]


def test_a_report_meets_only_cases_opened_before_it_and_only_when_it_cites_events() -> None:
    engine = RulesEngine({})
    early = engine.process([_report("early", T0 - 60)], now=T0)
    assert early == []
    engine.process([_input_hit(f"i{n}", T0 + n) for n in range(3)], now=T0)
    assert engine.process([_report("bare", T0 + 30, cites=())], now=T0 + 31) == []
    missed = engine.tick(T0 + 2 + 24 * 3600 + 1)
    assert sorted(f.obligation for f in missed) == ["enforcement", "report"]


def test_discrimination_and_output_hits_do_not_count() -> None:
    engine = RulesEngine({})
    hits = [_input_hit(f"d{n}", T0 + n, category="DISCRIMINATION_AGE") for n in range(6)]
    assert engine.process(hits, now=T0) == []


def test_a_late_hit_renumbers_a_users_cases_and_retracts_the_old_ones() -> None:
    engine = RulesEngine({})
    # Hits at T0+1, +2, +3 cross the threshold at the third: case u#1 opens at T0 + 3.
    first = engine.process([_input_hit(f"i{n}", T0 + n) for n in (1, 2, 3)], now=T0 + 10)
    assert {f.case_id for f in first} == {"ART14-USER-ENFORCEMENT:acme:u_1#1"}
    # An enforcement at T0 + 2.5 arrives: the count restarts, no case any more until later.
    later = engine.process([_enforcement("e1", T0 + 2.5)], now=T0 + 20)
    assert {(f.case_id, f.retracted) for f in later} == {
        ("ART14-USER-ENFORCEMENT:acme:u_1#1", True)
    }
    assert min(f.revision for f in later) > max(f.revision for f in first)


def test_a_unit_is_decided_with_the_configuration_in_force_at_its_first_event() -> None:
    from jianguan.domain.configuration import RuleConfiguration

    history = [
        RuleConfiguration(0.0, {}),
        RuleConfiguration(T0 + 100, {"ART14-ILLEGAL-CONTENT": {"disposal_hours": 2}}),
    ]
    engine = RulesEngine({}, history=history)
    before = Observed("acme", "svc", "m0", "moderation", T0, _hit().body)
    after = Observed("acme", "svc", "m1", "moderation", T0 + 200, _hit().body)
    opened = {f.case_id: f for f in engine.process([before, after], now=T0 + 300)}
    dues = {
        case: {d.obligation: d.due.seconds - int(f.at.seconds) for d in f.dues}["disposal"]
        for case, f in opened.items()
    }
    assert dues == {
        "ART14-ILLEGAL-CONTENT:acme:m0": 3600, "ART14-ILLEGAL-CONTENT:acme:m1": 7200,
    }  # fmt: skip
    params = {p.name: p.value for p in opened["ART14-ILLEGAL-CONTENT:acme:m1"].parameters}
    assert params["disposal_hours"] == "2"


def _cites(kind: str, event_id: str, at: float) -> Observed:
    return Observed("acme", "svc", event_id, kind, at, {"related_event_ids": ("m1",)})


def test_cases_open_and_overdue_are_counted_from_the_units() -> None:
    store: dict[str, bytes] = {}
    engine = RulesEngine(store)
    rule = "ART14-ILLEGAL-CONTENT"
    assert set(engine.case_counts().values()) == {(0, 0)}
    engine.process([_hit()], now=T0)
    assert engine.case_counts()[rule] == (1, 0)
    engine.tick(T0 + 2 * 3600)  # the disposal is missed
    assert engine.case_counts()[rule] == (1, 1)
    # A restarted engine counts the same from its store.
    assert RulesEngine(store).case_counts() == engine.case_counts()
    # Disposed of (late), reported and rectified: closed, neither open nor overdue.
    disposal = {"stage": "OUTPUT", "action": "REMOVED", "disposes_event_id": "m1"}
    engine.process(
        [
            Observed("acme", "svc", "d1", "moderation", T0 + 3 * 3600, disposal),
            _cites("incident_report", "r1", T0 + 3 * 3600),
            _cites("model_rectification", "x1", T0 + 4 * 3600),
        ],
        now=T0 + 5 * 3600,
    )
    assert engine.case_counts()[rule] == (0, 0)
    assert RulesEngine(store).case_counts()[rule] == (0, 0)


def test_a_case_status_follows_its_steps() -> None:
    engine = host.RulesEngine({})
    facts = engine.process([_hit()], now=T0 + 1)
    (status,) = [f for f in facts if f.kind == K.CASE_FACT_KIND_STATUS]
    assert status.fact_id == "ART14-ILLEGAL-CONTENT:acme:m1/STATUS/"
    assert (status.at.seconds, status.event_id) == (int(T0), "m1")
    assert status.due.seconds == int(T0 + 3600)  # disposal: 1 hour
    assert (list(status.obligations_met), list(status.obligations_missed)) == ([], [])
    assert not status.HasField("closed_at")
    facts = engine.tick(T0 + 2 * 3600)
    (status,) = [f for f in facts if f.kind == K.CASE_FACT_KIND_STATUS]
    assert list(status.obligations_missed) == ["disposal"]
    assert status.revision > 0
    assert not status.retracted
    removed = Observed(
        "acme", "svc", "d1", "moderation", T0 + 3 * 3600,
        {"stage": "OUTPUT", "risk_category": "VIOLENCE", "action": "REMOVED",
         "disposes_event_id": "m1"},
    )  # fmt: skip
    facts = engine.process([removed], now=T0 + 3 * 3600)
    (status,) = [f for f in facts if f.kind == K.CASE_FACT_KIND_STATUS]
    assert list(status.obligations_met) == ["disposal"]
    assert list(status.obligations_missed) == ["disposal"]  # met, but late
    assert status.due.seconds > T0 + 3 * 3600  # the report's and rectification's deadlines
    assert not status.HasField("closed_at")
    closing = [
        Observed(
            "acme", "svc", "r1", "incident_report", T0 + 4 * 3600, {"related_event_ids": ("m1",)}
        ),
        Observed(
            "acme", "svc", "x1", "model_rectification", T0 + 86400, {"related_event_ids": ("m1",)}
        ),
    ]
    facts = engine.process(closing, now=T0 + 86400)
    (status,) = [f for f in facts if f.kind == K.CASE_FACT_KIND_STATUS]
    assert list(status.obligations_met) == ["disposal", "rectification", "report"]
    assert status.closed_at.seconds == int(T0 + 86400)
    assert not status.HasField("due")
