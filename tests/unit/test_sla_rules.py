"""SLA rules at their edges: in time, one second late, out of order, duplicates, replay."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import date, datetime

from jianguan.domain.calendar import CST, WorkingCalendar, end_of_days_after
from jianguan.domain.cases import (
    Case,
    CaseClosed,
    CaseOpened,
    CaseStatus,
    DeadlineMissed,
    Fact,
    Input,
    ObligationMet,
    Unit,
    add_inputs,
    revise,
    text,
)
from jianguan.domain.events import Observed
from jianguan.domain.rules.active import SlaRule
from jianguan.domain.rules.sla import (
    DAY,
    HOUR,
    AuthorityComplaints,
    ComplaintProcess,
    Complaints,
    IllegalContent,
    PersonalInfoRequests,
    UserEnforcement,
)

T0 = 1_780_000_000.0  # a Tuesday


def hit(event_id: str = "m1", at: float = T0, action: str = "NONE", **kw: object) -> Observed:
    body = {"stage": "OUTPUT", "risk_category": "PORNOGRAPHY", "action": action, **kw}
    return Observed("acme", "svc", event_id, "moderation", at, body)


def ref(kind: str, event_id: str, at: float, *refs: str) -> Observed:
    return Observed("acme", "svc", event_id, kind, at, {"related_event_ids": refs})


class Host:
    """A minimal host: units in a dict keyed by (provider, unit), the events fed one at a time;
    the clock stands still (no misses but late meetings) until ``clock`` moves it."""

    def __init__(self, rule: SlaRule) -> None:
        self.rule = rule
        self.units: dict[tuple[str, str], Unit] = {}
        self.now = float("-inf")
        self.retracted: list[str] = []

    def feed(self, *events: Observed) -> list[Fact]:
        facts: list[Fact] = []
        for ev in events:
            touched = defaultdict(list)
            for unit, given in self.rule.route(ev):
                touched[(ev.provider_id, unit)].append(given)
            for key, given in touched.items():
                added = add_inputs(self.units.get(key, Unit()), given, self.rule.keep)
                if added is not None:
                    facts += self._decide(key, added)
        return facts

    def clock(self, now: float) -> list[Fact]:
        self.now = now
        facts: list[Fact] = []
        for key, unit in sorted(self.units.items()):
            if unit.next_due < now:
                facts += self._decide(key, unit)
        return facts

    def _decide(self, key: tuple[str, str], unit: Unit) -> list[Fact]:
        decision = self.rule.decide(key[0], key[1], unit.inputs, self.now)
        status_follows_steps(decision.facts)
        self.units[key], changed, retracted = revise(unit, decision, self.now)
        self.retracted += [r.fact_id for r in retracted]
        return [s.fact for s in changed if not isinstance(s.fact, CaseStatus)]


def status_follows_steps(facts: tuple[Fact, ...]) -> None:
    """Each case decided has one status, and it says what its steps say."""
    by_case: dict[str, list[Fact]] = defaultdict(list)
    for f in facts:
        by_case[f.case_id].append(f)
    for steps in by_case.values():
        (status,) = [f for f in steps if isinstance(f, CaseStatus)]
        met = sorted(f.obligation for f in steps if isinstance(f, ObligationMet))
        missed = sorted(f.obligation for f in steps if isinstance(f, DeadlineMissed))
        closed = [f.at for f in steps if isinstance(f, CaseClosed)]
        assert (list(status.met), list(status.missed)) == (met, missed)
        assert status.closed_at == (closed[0] if closed else None)
        unmet = [due for name, due in status.case.dues if name not in met + missed]
        assert status.next_due == min(unmet, default=math.inf)


def kinds(facts: list[Fact]) -> list[str]:
    out = []
    for f in facts:
        if isinstance(f, ObligationMet):
            out.append(f"met:{f.obligation}{':late' if f.late else ''}")
        elif isinstance(f, DeadlineMissed):
            out.append(f"missed:{f.obligation}")
        else:
            out.append(type(f).__name__)
    return out


def test_illegal_output_fully_handled_closes_the_case() -> None:
    host = Host(IllegalContent())
    facts = host.feed(
        hit(action="STOP_TRANSMISSION"),
        ref("incident_report", "r1", T0 + 2 * HOUR, "m1"),
        ref("model_rectification", "x1", T0 + 3 * DAY, "m1"),
    )
    assert kinds(facts) == [
        "CaseOpened", "met:disposal", "met:report", "met:rectification", "CaseClosed",
    ]  # fmt: skip
    opened = facts[0]
    assert isinstance(opened, CaseOpened)
    assert opened.case.case_id == "ART14-ILLEGAL-CONTENT:acme:m1"
    assert dict(opened.parameters) == {
        "disposal_hours": "1", "report_hours": "24", "rectification_days": "7",
    }  # fmt: skip
    assert host.clock(T0 + 30 * DAY) == []


def test_a_later_removal_of_the_output_disposes_of_the_hit_and_opens_no_case() -> None:
    """The removal is a moderation event on the same output, in the same category: it names the
    hit it disposes of, and is not a second finding (no phantom case with two critical misses)."""
    host = Host(IllegalContent())
    facts = host.feed(
        hit(action="NONE"),
        hit("m2", T0 + 600, action="REMOVED", disposes_event_id="m1"),
        ref("incident_report", "r1", T0 + 2 * HOUR, "m1"),
        ref("model_rectification", "x1", T0 + 3 * DAY, "m1"),
    )
    assert kinds(facts) == [
        "CaseOpened", "met:disposal", "met:report", "met:rectification", "CaseClosed",
    ]  # fmt: skip
    assert {f.case_id for f in facts} == {"ART14-ILLEGAL-CONTENT:acme:m1"}
    disposal = facts[1]
    assert isinstance(disposal, ObligationMet)
    assert disposal.by_event_id == "m2"
    assert host.clock(T0 + 30 * DAY) == []
    # a later decision that disposes of nothing (a re-review kept in place) opens nothing either
    assert Host(IllegalContent()).feed(hit("m3", T0, action="NONE", disposes_event_id="m1")) == []


def test_just_in_time_and_one_second_late() -> None:
    host = Host(IllegalContent())
    host.feed(hit())
    assert host.clock(T0 + HOUR) == []  # due instant itself: not yet missed
    in_time = host.feed(
        Observed("acme", "svc", "d1", "moderation", T0 + HOUR, {
            "stage": "OUTPUT", "action": "REMOVED", "disposes_event_id": "m1",
        })
    )  # fmt: skip
    assert kinds(in_time) == ["met:disposal"]
    late_host = Host(IllegalContent())
    late_host.feed(hit())
    missed = late_host.clock(T0 + HOUR + 1)
    assert kinds(missed) == ["missed:disposal"]
    assert isinstance(missed[0], DeadlineMissed)
    assert missed[0].due == T0 + HOUR
    assert late_host.clock(T0 + HOUR + 2) == []  # missed once
    late = late_host.feed(
        Observed("acme", "svc", "d1", "moderation", T0 + HOUR + 1, {
            "stage": "OUTPUT", "action": "REMOVED", "disposes_event_id": "m1",
        })
    )  # fmt: skip
    assert kinds(late) == ["met:disposal:late"]


def test_report_before_the_hit_still_counts() -> None:
    host = Host(IllegalContent())
    early = host.feed(ref("incident_report", "r1", T0 + 60, "m1"))
    assert early == []
    facts = host.feed(hit(at=T0))
    assert kinds(facts) == ["CaseOpened", "met:report"]


def test_duplicates_change_nothing() -> None:
    host = Host(IllegalContent())
    first = host.feed(hit(), ref("incident_report", "r1", T0 + 60, "m1"))
    again = host.feed(hit(), ref("incident_report", "r1", T0 + 60, "m1"))
    assert len(first) == 2
    assert again == []


def test_input_stage_and_discrimination_hits_open_no_case() -> None:
    host = Host(IllegalContent())
    assert host.feed(hit(stage="INPUT")) == []
    assert host.feed(hit("m2", risk_category="DISCRIMINATION_GENDER")) == []


def test_providers_never_share_cases() -> None:
    host = Host(IllegalContent())
    host.feed(hit())
    other = Observed("beta", "svc", "r9", "incident_report", T0, {"related_event_ids": ("m1",)})
    host.feed(other)
    assert kinds(host.clock(T0 + 25 * HOUR)) == ["missed:disposal", "missed:report"]


def test_facts_do_not_depend_on_when_the_clock_ticked() -> None:
    events = [hit(), ref("incident_report", "r1", T0 + 30 * HOUR, "m1")]
    ticked = Host(IllegalContent())
    with_tick = ticked.feed(events[0]) + ticked.clock(T0 + 25 * HOUR) + ticked.feed(events[1])
    quiet = Host(IllegalContent())
    without_tick = quiet.feed(*events)
    late_report = ["missed:report", "met:report:late"]
    assert [k for k in kinds(with_tick) if "report" in k] == late_report
    assert [k for k in kinds(without_tick) if "report" in k] == late_report


def test_replay_gives_the_same_facts() -> None:
    events = [
        hit(),
        ref("incident_report", "r1", T0 + 30 * HOUR, "m1"),
        hit("m2", at=T0 + 10, action="BLOCKED"),
    ]
    runs = []
    for _ in range(2):
        host = Host(IllegalContent())
        facts = host.feed(*events[:1]) + host.clock(T0 + 25 * HOUR) + host.feed(*events[1:])
        runs.append(facts)
    assert runs[0] == runs[1]
    assert "missed:report" in kinds(runs[0])
    assert "met:report:late" in kinds(runs[0])


def complaint(status: str, at: float, event_id: str = "") -> Observed:
    body = {"complaint_id": "c-7", "status": status}
    return Observed("acme", "svc", event_id or f"c-{status}", "complaint", at, body)


def test_complaint_deadline_is_the_published_one() -> None:
    host = Host(Complaints(lambda provider, service, at: (5, False, "registration f")))
    opened = host.feed(complaint("RECEIVED", T0))
    case = opened[0]
    assert isinstance(case, CaseOpened)
    dues = dict(case.case.dues)
    assert dict(case.parameters)["resolve_days_source"] == "registration f"
    # T0 is 04:26:40 on Friday 29 May 2026 in Beijing: day 1 is the 30th, day 5 ends at
    # 24:00 on 3 June (Civil Code Arts. 201, 203)
    end_of_3_june = datetime(2026, 6, 3, 23, 59, 59, tzinfo=CST).timestamp()
    assert dues == {"acknowledge": end_of_3_june - 3 * DAY, "resolve": end_of_3_june}
    assert dict(case.parameters)["day_count"].startswith("from the day after receipt")
    assert kinds(host.feed(complaint("ACKNOWLEDGED", T0 + HOUR))) == ["met:acknowledge"]
    assert kinds(host.feed(complaint("RESOLVED", end_of_3_june))) == ["met:resolve", "CaseClosed"]


def test_a_deadline_published_in_working_days_counts_working_days() -> None:
    calendar = WorkingCalendar(holidays=frozenset({date(2026, 6, 1)}))
    host = Host(Complaints(lambda provider, service, at: (3, True, "registration f"), calendar))
    (case,) = host.feed(complaint("RECEIVED", T0))
    assert isinstance(case, CaseOpened)
    # Friday 29 May: Mon 1 June is a holiday, so the 3rd working day is Thursday 4 June
    end_of_4_june = datetime(2026, 6, 4, 23, 59, 59, tzinfo=CST).timestamp()
    assert dict(case.case.dues)["resolve"] == end_of_4_june
    # acknowledgement: 2 calendar days by default (30 and 31 May)
    assert dict(case.case.dues)["acknowledge"] == end_of_days_after(T0, 2)
    parameters = dict(case.parameters)
    assert parameters["resolve_days_unit"] == "working"
    assert parameters["calendar"] == calendar.digest
    assert parameters["day_count"].startswith("working days")


def test_resolution_without_acknowledgement_is_a_late_acknowledgement() -> None:
    host = Host(Complaints(lambda provider, service, at: (5, False, "registration f")))
    host.feed(complaint("RECEIVED", T0))
    # Met after its due instant: the miss is a fact even if no clock tick reported it first.
    assert kinds(host.feed(complaint("RESOLVED", T0 + 3 * DAY))) == [
        "missed:acknowledge", "met:acknowledge:late", "met:resolve", "CaseClosed",
    ]  # fmt: skip


def test_complaint_without_published_deadline_uses_the_default() -> None:
    host = Host(Complaints(lambda provider, service, at: None))
    host.feed(complaint("RECEIVED", T0), complaint("ACKNOWLEDGED", T0 + HOUR))
    due = datetime(2026, 6, 13, 23, 59, 59, tzinfo=CST).timestamp()  # 15 days after 29 May
    assert host.clock(due) == []
    assert kinds(host.clock(due + 1)) == ["missed:resolve"]


def test_working_days_skip_weekends_and_holidays() -> None:
    friday = datetime(2026, 6, 5, 9, 0, tzinfo=CST).timestamp()
    cal = WorkingCalendar(holidays=frozenset({date(2026, 6, 9)}))
    # Mon 8th is the first working day, Tue 9th a holiday, Wed 10th the second: end of that day.
    assert cal.deadline(friday, 2) == datetime(2026, 6, 10, 23, 59, 59, tzinfo=CST).timestamp()
    swapped = WorkingCalendar(workdays=frozenset({date(2026, 6, 6)}))  # a working Saturday
    assert swapped.deadline(friday, 1) == datetime(2026, 6, 6, 23, 59, 59, tzinfo=CST).timestamp()


def test_pi_request_answered_within_working_days() -> None:
    cal = WorkingCalendar()
    host = Host(PersonalInfoRequests(cal))
    received = Observed(
        "acme", "svc", "p1", "personal_info_request", T0, {"request_id": "r", "status": "RECEIVED"}
    )
    host.feed(received)
    due = cal.deadline(T0, 15)
    assert host.clock(due) == []
    assert kinds(host.clock(due + 1)) == ["missed:answer"]
    unreasoned = Observed(
        "acme", "svc", "p2", "personal_info_request", due + 5,
        {"request_id": "r", "status": "REFUSED", "refusal_reason": "  "},
    )  # fmt: skip
    assert host.feed(unreasoned) == []  # a refusal without reasons answers nothing
    refused = Observed(
        "acme", "svc", "p3", "personal_info_request", due + 9,
        {"request_id": "r", "status": "REFUSED", "refusal_reason": "无法核实请求人身份"},
    )  # fmt: skip
    facts = host.feed(refused)
    assert kinds(facts) == ["met:answer:late", "CaseClosed"]
    assert isinstance(facts[-1], CaseClosed)


def registration(at: float, days: int, url: str, event_id: str = "f") -> Observed:
    body = {"kind": "REGISTRATION", "status": "GRANTED", "complaint_deadline_days": days,
            "complaint_channel_url": url}  # fmt: skip
    return Observed("acme", "svc", event_id, "service_filing", at, body)


def test_registration_without_a_published_deadline_is_a_violation() -> None:
    from jianguan.domain.rules.sla import ComplaintProcess

    host = Host(ComplaintProcess())
    assert kinds(host.feed(registration(T0, 0, ""))) == ["CaseOpened"]
    assert kinds(host.clock(T0 + 1)) == ["missed:publish_deadline"]
    fixed = host.feed(registration(T0 + DAY, 15, "https://example.cn/complaints", "f2"))
    assert kinds(fixed) == ["met:publish_deadline:late", "CaseClosed"]
    compliant = Host(ComplaintProcess())
    assert compliant.feed(registration(T0, 15, "https://example.cn/complaints")) == []
    assert compliant.clock(T0 + DAY) == []


def test_authority_complaint_matched_by_the_providers_record() -> None:
    from jianguan.domain.rules.sla import AuthorityComplaints

    host = Host(AuthorityComplaints())
    body = {"category": "OTHER", "forwarded_at": T0 + HOUR}
    filed = Observed("acme", "svc", "AUTH-7", "authority_complaint", T0, body)
    own = Observed("acme", "svc", "c1", "complaint", T0 + DAY, {"authority_ref": "AUTH-7"})
    assert kinds(host.feed(own, filed)) == ["CaseOpened", "met:provider_record", "CaseClosed"]
    unmatched = Host(AuthorityComplaints())
    unmatched.feed(filed)
    # the clock runs from the forwarding, not from the authority's receipt
    assert kinds(unmatched.clock(T0 + HOUR + 3 * DAY)) == []
    assert kinds(unmatched.clock(T0 + HOUR + 3 * DAY + 1)) == ["missed:provider_record"]


def test_an_authority_complaint_not_forwarded_asks_nothing_of_the_provider() -> None:
    from jianguan.domain.rules.sla import AuthorityComplaints

    host = Host(AuthorityComplaints())
    received = Observed("acme", "svc", "AUTH-8", "authority_complaint", T0, {"category": "OTHER"})
    assert host.feed(received) == []
    assert host.clock(T0 + 30 * DAY) == []
    # recorded again once forwarded: the case opens at the forwarding, due 3 days after it
    body = {"category": "OTHER", "forwarded_at": T0 + 30 * DAY}
    forwarded = Observed("acme", "svc", "AUTH-8", "authority_complaint", T0, body)
    (opened,) = host.feed(forwarded)
    assert isinstance(opened, CaseOpened)
    assert opened.case.opened_at == T0 + 30 * DAY
    assert dict(opened.case.dues) == {"provider_record": T0 + 33 * DAY}


def test_a_miss_is_retracted_when_a_late_arriving_event_shows_it_met_in_time() -> None:
    host = Host(IllegalContent())
    host.feed(hit())
    assert kinds(host.clock(T0 + 2 * HOUR)) == ["missed:disposal"]
    removal = {"stage": "OUTPUT", "action": "REMOVED", "disposes_event_id": "m1"}
    in_time = Observed("acme", "svc", "d1", "moderation", T0 + 600, removal)
    assert kinds(host.feed(in_time)) == ["met:disposal"]
    assert host.retracted == ["ART14-ILLEGAL-CONTENT:acme:m1/DEADLINE_MISSED/disposal"]


def test_an_earlier_meeting_event_revises_the_obligation_and_the_closing() -> None:
    host = Host(IllegalContent())
    host.feed(
        hit(action="BLOCKED"),
        ref("model_rectification", "x1", T0 + 2 * DAY, "m1"),
        ref("incident_report", "r2", T0 + 20 * HOUR, "m1"),
    )
    revised = host.feed(ref("incident_report", "r1", T0 + HOUR, "m1"))
    met = [f for f in revised if isinstance(f, ObligationMet)]
    assert [(f.obligation, f.by_event_id, f.at) for f in met] == [("report", "r1", T0 + HOUR)]
    assert not any(isinstance(f, CaseClosed) for f in revised)  # still closed at T0 + 2 days
    earlier = host.feed(ref("model_rectification", "x0", T0 + DAY, "m1"))
    closed = [f for f in earlier if isinstance(f, CaseClosed)]
    assert [f.at for f in closed] == [T0 + DAY]


def test_a_complaint_takes_the_deadline_published_when_it_was_received() -> None:
    published = {"svc": [(T0 - DAY, 3.0)]}

    def days(provider: str, service: str, at: float) -> tuple[float, bool, str] | None:
        in_force = [d for t, d in published[service] if t <= at]
        return (in_force[-1], False, "registration") if in_force else None

    host = Host(Complaints(days))
    (opened,) = host.feed(complaint("RECEIVED", T0))
    assert isinstance(opened, CaseOpened)
    assert dict(opened.case.dues)["resolve"] == end_of_days_after(T0, 3)
    late = Host(Complaints(days))
    (before,) = late.feed(complaint("RECEIVED", T0 - 2 * DAY))
    assert isinstance(before, CaseOpened)
    assert dict(before.case.dues)["resolve"] == end_of_days_after(T0 - 2 * DAY, 15)  # default
    assert dict(before.parameters)["resolve_days_source"] == "default"


def test_one_case_rules_keep_only_what_they_read() -> None:
    """A one-case rule keeps the earliest input of each role: over random inputs (repeated
    roles, ties, any order), it decides exactly what it decides from all of them."""
    rng = random.Random(14)
    rules: list[tuple[SlaRule, tuple[str, ...]]] = [
        (IllegalContent(), ("open", "disposal", "report", "rectification")),
        (Complaints(lambda p, s, at: (7.0, at > T0 + DAY, "registration r") if at > T0 else None),
         ("open", "acknowledge", "resolve")),
        (PersonalInfoRequests(WorkingCalendar()), ("open", "answer")),
        (AuthorityComplaints(), ("open", "provider_record")),
        (ComplaintProcess(), ("open", "publish_deadline")),
    ]  # fmt: skip
    for rule, roles in rules:
        for _ in range(300):
            every = tuple(
                sorted(
                    Input(T0 + rng.choice((0, 1, 2)) * rng.uniform(0, 40 * DAY),
                          f"e{rng.randrange(30)}", rng.choice(roles), rng.choice(("s1", "s2")))
                    for _ in range(rng.randrange(1, 12))
                )
            )  # fmt: skip
            kept = rule.keep(every)
            assert len(kept) <= len(roles)
            assert set(kept) <= set(every)
            for watermark in (T0 - 1, T0 + 3 * DAY, T0 + 100 * DAY):
                assert rule.decide("p", "u", kept, watermark) == rule.decide(
                    "p", "u", every, watermark
                ), (rule.rule_id, every)


def test_a_unit_stays_small_however_often_a_role_repeats() -> None:
    host = Host(ComplaintProcess())
    for n in range(500):
        published = {"complaint_deadline_days": 7, "complaint_channel_url": "https://x"}
        body = {"kind": "REGISTRATION", **(published if n % 2 else {})}
        host.feed(Observed("acme", "svc", f"r{n}", "service_filing", T0 + n * 60, body))
    (unit,) = host.units.values()
    assert [i.event_id for i in unit.inputs] == ["r0", "r1"]
    # a user's timeline is read whole: kept whole
    assert UserEnforcement.keep(unit.inputs + unit.inputs) == unit.inputs + unit.inputs


def test_a_facts_digested_text_is_its_repr() -> None:
    """The digest reads a hand-written repr (fast); it must be the dataclasses' own, field for
    field, or a change in a field left out would never be revised."""
    case = Case("c", "R", "p", "s", "subj'\"", T0 + 0.1, "e1", (("a", T0 + 1.5), ("b", 2e9)))
    facts: list[Fact] = [
        CaseOpened(case, (("days", "7"), ("calendar", "x"))),
        CaseOpened(case),
        ObligationMet(case, "a", T0 + 2.25, "e2", True),
        DeadlineMissed(case, "b", 2e9),
        CaseClosed(case, T0 + 3),
    ]
    for fact in facts:
        assert text(fact) == repr(fact)


def test_a_period_in_days_starts_the_next_day_and_ends_at_midnight_beijing_time() -> None:
    just_before_midnight = datetime(2026, 6, 5, 23, 59, 0, tzinfo=CST).timestamp()
    assert end_of_days_after(just_before_midnight, 1) == (
        datetime(2026, 6, 6, 23, 59, 59, tzinfo=CST).timestamp()
    )
    just_after = datetime(2026, 6, 6, 0, 1, 0, tzinfo=CST).timestamp()
    assert end_of_days_after(just_after, 1) == (
        datetime(2026, 6, 7, 23, 59, 59, tzinfo=CST).timestamp()
    )
    assert end_of_days_after(just_after, 0.5) == just_after + DAY / 2  # a fraction: exact


def test_nothing_before_the_measures_took_effect_opens_a_case() -> None:
    in_force = datetime(2023, 8, 15, tzinfo=CST).timestamp()
    host = Host(IllegalContent())
    assert host.feed(hit("old", in_force - 1)) == []
    assert kinds(host.feed(hit("new", in_force))) == ["CaseOpened"]
    users = Host(UserEnforcement())
    before = [
        Observed("acme", "svc", f"i{n}", "moderation", in_force - 10 + n,
                 {"stage": "INPUT", "risk_category": "TERRORISM_EXTREMISM", "user_ref": "u"})
        for n in range(3)
    ]  # fmt: skip
    assert users.feed(*before) == []  # hits before 15 August 2023 do not count


def test_a_rectification_counts_when_completed_not_when_announced() -> None:
    host = Host(IllegalContent())
    host.feed(
        hit(action="STOP_TRANSMISSION"),
        ref("incident_report", "r1", T0 + HOUR, "m1"),
    )
    announced = Observed(
        "acme", "svc", "x1", "model_rectification", T0 + DAY,
        {"related_event_ids": ("m1",), "completed_at": T0 + 10 * DAY},
    )  # fmt: skip
    assert host.feed(announced) == []  # nothing is met by a plan
    assert kinds(host.clock(T0 + 7 * DAY + 1)) == ["missed:rectification"]
    assert host.clock(T0 + 10 * DAY - 1) == []
    done = host.clock(T0 + 10 * DAY + 1)
    assert kinds(done) == ["met:rectification:late", "CaseClosed"]
    met = done[0]
    assert isinstance(met, ObligationMet)
    assert met.at == T0 + 10 * DAY  # met when completed
    # completed before it was reported: met at its report, as any event
    other = Host(IllegalContent())
    other.feed(hit("m2", action="STOP_TRANSMISSION"))
    facts = other.feed(
        Observed("acme", "svc", "x2", "model_rectification", T0 + DAY,
                 {"related_event_ids": ("m2",), "completed_at": T0 + HOUR})
    )  # fmt: skip
    assert "met:rectification" in kinds(facts)


def test_a_registration_publishes_whom_the_service_is_for_and_its_user_agreement() -> None:
    """ART10-PUBLISHED-USE and ART9-USER-AGREEMENT: due at registration by default, within the
    configured grace otherwise; a registration publishing them meets the case (late after)."""
    from jianguan.domain.rules.sla import PublishedUse, UserAgreement

    bare = {"kind": "REGISTRATION", "status": "GRANTED"}
    full = {
        **bare, "intended_users": "adults", "intended_uses": "chat",
        "usage_policy_url": "https://x.cn/u", "user_agreement_version": "v1",
        "user_agreement_url": "https://x.cn/a",
    }  # fmt: skip
    without = Observed("acme", "svc", "reg-1", "service_filing", T0, bare)
    later = Observed("acme", "svc", "reg-2", "service_filing", T0 + HOUR, full)
    for rule, obligation in ((PublishedUse(), "publish_use"), (UserAgreement(), "user_agreement")):
        host = Host(rule)
        (opened,) = host.feed(without)
        assert isinstance(opened, CaseOpened)
        assert dict(opened.case.dues) == {obligation: T0}
        assert kinds(host.feed(later)) == [
            f"missed:{obligation}",
            f"met:{obligation}:late",
            "CaseClosed",
        ]
        compliant = Host(type(rule)())
        assert compliant.feed(Observed("acme", "svc", "r", "service_filing", T0, full)) == []
        revoked = Observed("acme", "svc", "r", "service_filing", T0, {**bare, "status": "REVOKED"})
        assert compliant.feed(revoked) == []
    graced = Host(PublishedUse({"grace_hours": 48}))
    (opened,) = graced.feed(without)
    assert isinstance(opened, CaseOpened)
    assert dict(opened.case.dues) == {"publish_use": T0 + 48 * HOUR}
    assert dict(opened.parameters) == {"grace_hours": "48"}
    assert kinds(graced.feed(later)) == ["met:publish_use", "CaseClosed"]
