"""The authorities' demands (Art. 19 ¶1 inspections, Art. 21 ¶1 orders to correct): deadlines the
authority sets, amendments and withdrawal in any order, answers by topic, and orders from two
authorities under one reference kept apart."""

from __future__ import annotations

import itertools

from jianguan.contracts import pb
from jianguan.contracts.observed import observed, observed_authority_action
from jianguan.domain.cases import CaseOpened, DeadlineMissed
from jianguan.domain.events import Observed
from jianguan.domain.rules.demands import CorrectionOrders, Inspections
from jianguan.domain.rules.sla import DAY, HOUR
from tests.unit.test_sla_rules import T0, Host, kinds


def order(
    revision: int = 0,
    due: float = T0 + 10 * DAY,
    withdrawn: bool = False,
    authority: str = "cac-bj",
    ref: str = "ORD-1",
) -> Observed:
    body = {"authority_id": authority, "due": due, "revision": revision, "withdrawn": withdrawn}
    return Observed("acme", "svc", ref, "correction_order", T0, body)


def report(event_id: str, at: float, authority: str = "cac-bj", ref: str = "ORD-1") -> Observed:
    body = {"authority_id": authority, "order_ref": ref, "completed_at": at - HOUR}
    return Observed("acme", "svc", event_id, "correction_report", at, body)


def request(topics: tuple[str, ...], revision: int = 0, due: float = T0 + 7 * DAY) -> Observed:
    body = {"authority_id": "cac-bj", "due": due, "revision": revision, "topics": topics}
    return Observed("acme", "svc", "INS-1", "inspection_request", T0, body)


def answer(event_id: str, at: float, *topics: str) -> Observed:
    body = {"authority_id": "cac-bj", "request_ref": "INS-1", "topics": topics}
    return Observed("acme", "svc", event_id, "inspection_response", at, body)


def test_an_order_reported_corrected_in_time_closes() -> None:
    host = Host(CorrectionOrders())
    facts = host.feed(order(), report("r1", T0 + 9 * DAY))
    assert kinds(facts) == ["CaseOpened", "met:correction", "CaseClosed"]
    opened = facts[0]
    assert isinstance(opened, CaseOpened)
    assert opened.case.case_id == "ART21-CORRECTION-ORDER:acme:cac-bj:ORD-1"
    assert opened.case.trigger_event_id == "ORD-1"
    assert dict(opened.case.dues) == {"correction": T0 + 10 * DAY}
    assert dict(opened.parameters)["revision"] == "0"


def test_a_missed_order_is_due_at_the_authoritys_deadline_to_the_second() -> None:
    host = Host(CorrectionOrders())
    host.feed(order())
    assert kinds(host.clock(T0 + 10 * DAY)) == []
    (missed,) = host.clock(T0 + 10 * DAY + 1)
    assert isinstance(missed, DeadlineMissed)
    assert (missed.obligation, missed.due) == ("correction", T0 + 10 * DAY)
    # a report after the deadline meets it late; the miss stands
    assert kinds(host.feed(report("r1", T0 + 11 * DAY))) == ["met:correction:late", "CaseClosed"]


def test_an_extension_retracts_the_miss_whatever_order_the_revisions_arrive_in() -> None:
    extended = order(revision=1, due=T0 + 20 * DAY)
    for first, second in itertools.permutations([order(), extended]):
        host = Host(CorrectionOrders())
        host.feed(first)
        host.clock(T0 + 15 * DAY)
        host.feed(second)
        host.clock(T0 + 16 * DAY)
        (unit,) = host.units.values()
        decision = host.rule.decide("acme", "cac-bj:ORD-1", unit.inputs, T0 + 16 * DAY)
        (opened,) = [f for f in decision.facts if isinstance(f, CaseOpened)]
        assert dict(opened.case.dues) == {"correction": T0 + 20 * DAY}
        assert not any(isinstance(f, DeadlineMissed) for f in decision.facts)


def test_a_withdrawn_order_asks_nothing_and_its_facts_are_retracted() -> None:
    host = Host(CorrectionOrders())
    host.feed(order())
    host.clock(T0 + 11 * DAY)
    assert host.feed(order(revision=1, withdrawn=True)) == []
    assert sorted(host.retracted) == [
        "ART21-CORRECTION-ORDER:acme:cac-bj:ORD-1/DEADLINE_MISSED/correction",
        "ART21-CORRECTION-ORDER:acme:cac-bj:ORD-1/OPENED/",
        "ART21-CORRECTION-ORDER:acme:cac-bj:ORD-1/STATUS/",
    ]
    # an older revision arriving after the withdrawal changes nothing
    assert host.feed(order(revision=0, due=T0 + 30 * DAY)) == []


def test_two_authorities_orders_under_one_reference_are_two_cases() -> None:
    host = Host(CorrectionOrders())
    host.feed(order(authority="cac-bj"), order(authority="miit"))
    host.feed(report("r1", T0 + DAY, authority="miit"))
    missed = host.clock(T0 + 11 * DAY)
    assert [f.case_id for f in missed] == ["ART21-CORRECTION-ORDER:acme:cac-bj:ORD-1"]


def test_an_answer_before_the_request_is_recorded_still_meets_it() -> None:
    host = Host(CorrectionOrders())
    assert host.feed(report("r1", T0 + DAY)) == []
    assert kinds(host.feed(order())) == ["CaseOpened", "met:correction", "CaseClosed"]


def test_each_inspection_topic_is_an_obligation_met_by_the_answers_that_name_it() -> None:
    host = Host(Inspections())
    (opened,) = host.feed(request(("TRAINING_DATA_SOURCE", "ANNOTATION_RULES")))
    assert isinstance(opened, CaseOpened)
    assert dict(opened.case.dues) == {
        "annotation_rules": T0 + 7 * DAY,
        "training_data_source": T0 + 7 * DAY,
    }
    assert kinds(host.feed(answer("a1", T0 + DAY, "TRAINING_DATA_SOURCE"))) == [
        "met:training_data_source"
    ]
    # a topic not asked meets nothing
    assert host.feed(answer("a2", T0 + 2 * DAY, "DATA_SUPPORT")) == []
    assert kinds(host.clock(T0 + 8 * DAY)) == ["missed:annotation_rules"]


def test_an_amended_request_asks_the_topics_of_its_standing_revision() -> None:
    host = Host(Inspections())
    host.feed(request(("TRAINING_DATA_SOURCE",)))
    amended = request(("TRAINING_DATA_SOURCE", "ALGORITHM_MECHANISM"), revision=1, due=T0 + 9 * DAY)
    (opened,) = [f for f in host.feed(amended) if isinstance(f, CaseOpened)]
    assert dict(opened.case.dues) == {
        "algorithm_mechanism": T0 + 9 * DAY,
        "training_data_source": T0 + 9 * DAY,
    }


def test_nothing_from_before_the_measures_took_effect_opens_a_case() -> None:
    host = Host(CorrectionOrders())
    early = Observed("acme", "svc", "ORD-0", "correction_order", 1_600_000_000.0, order().body)
    assert host.feed(early) == []


def test_the_contracts_messages_reach_the_rules_as_the_rules_read_them() -> None:
    """The wire forms (an AuthorityAction with its authority from the credential, an event from
    the provider) give the Observed the rules route on."""
    action = pb.authority_pb2.AuthorityAction()
    o = action.inspection_request
    o.request_ref, o.provider_id = "INS-1", "acme"
    o.service_ids.append("svc")
    o.topics.extend([1, 4])
    o.issued_at.seconds, o.respond_by.seconds, o.revision = int(T0), int(T0 + 7 * DAY), 2
    seen = observed_authority_action(action, "cac-bj")
    assert seen is not None
    assert (seen.provider_id, seen.service_id, seen.event_id, seen.kind, seen.at) == (
        "acme", "svc", "INS-1", "inspection_request", T0,
    )  # fmt: skip
    assert seen.get("authority_id") == "cac-bj"
    assert seen.get("due") == T0 + 7 * DAY
    assert seen.get("topics") == ("TRAINING_DATA_SOURCE", "ANNOTATION_RULES")
    assert observed_authority_action(pb.authority_pb2.AuthorityAction(), "cac-bj") is None

    event = pb.Event()
    event.envelope.event_id, event.envelope.service_id = "a1", "svc"
    event.envelope.occurred_at.seconds = int(T0 + DAY)
    event.inspection_response.authority_id = "cac-bj"
    event.inspection_response.request_ref = "INS-1"
    event.inspection_response.topics.append(1)
    reply = observed(event, "acme")
    assert reply is not None
    host = Host(Inspections())
    host.feed(seen)
    assert kinds(host.feed(reply)) == ["met:training_data_source"]
