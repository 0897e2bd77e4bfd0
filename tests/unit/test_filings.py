"""Art. 17 filings over time (domain.filings): the latest status as of each moment of service."""

from __future__ import annotations

import pytest

from jianguan.contracts import pb
from jianguan.domain import filings as fl
from jianguan.domain.filings import Filing, Timeline

H = fl.HOUR
DAY = 86400


def f(at: int, kind: int, status: int, model: str = "", po: bool = False, eid: str = "") -> Filing:
    return Filing(at, eid or f"{kind}-{status}-{at}", kind, status, model, po)


def test_the_numbers_are_the_contracts() -> None:
    k, s = pb.bodies_pb2.FilingKind, pb.bodies_pb2.FilingStatus
    assert (
        k.Value("FILING_KIND_REGISTRATION"),
        k.Value("FILING_KIND_SECURITY_ASSESSMENT"),
        k.Value("FILING_KIND_ALGORITHM_FILING"),
        k.Value("FILING_KIND_CHANGE"),
        k.Value("FILING_KIND_CANCELLATION"),
    ) == (fl.REGISTRATION, fl.ASSESSMENT, fl.ALGORITHM_FILING, fl.CHANGE, fl.CANCELLATION)
    assert (
        s.Value("FILING_STATUS_SUBMITTED"),
        s.Value("FILING_STATUS_GRANTED"),
        s.Value("FILING_STATUS_REJECTED"),
        s.Value("FILING_STATUS_REVOKED"),
    ) == (fl.SUBMITTED, fl.GRANTED, fl.REJECTED, fl.REVOKED)


def test_a_granted_filing_revoked_later_is_not_in_effect_from_the_revocation() -> None:
    t = Timeline.of([f(100, 3, fl.GRANTED), f(500, 3, fl.REVOKED)], (3,))
    assert not t.in_effect(99)
    assert t.in_effect(100)
    assert t.in_effect(499)
    assert not t.in_effect(500)
    assert t.in_effect_since(499) == 100
    assert t.in_effect_since(600) is None


def test_a_submitted_filing_meets_the_formality_and_a_rejection_ends_it() -> None:
    t = Timeline.of(
        [f(100, 3, fl.SUBMITTED), f(200, 3, fl.REJECTED), f(300, 3, fl.SUBMITTED)], (3,)
    )
    assert t.in_effect(150)
    assert not t.in_effect(250)
    assert t.in_effect_since(400) == 300  # in effect again only since the new submission
    granted = Timeline.of([f(100, 3, fl.SUBMITTED), f(200, 3, fl.GRANTED)], (3,))
    assert granted.in_effect_since(300) == 100  # granting a submitted filing continues it


def test_the_order_of_delivery_does_not_matter() -> None:
    events = [f(100, 3, fl.GRANTED), f(500, 3, fl.REVOKED), f(900, 3, fl.SUBMITTED)]
    assert Timeline.of(events, (3,)) == Timeline.of(reversed(events), (3,))


def test_an_hour_with_a_filing_in_effect_at_some_moment_gets_the_benefit_of_the_doubt() -> None:
    t = Timeline.of([f(10 * H + 1800, 3, fl.SUBMITTED)], (3,))
    assert t.in_effect_during(10 * H, 11 * H)  # submitted mid-hour
    assert not t.in_effect_during(9 * H, 10 * H)


def test_unfiled_hours_count_service_after_the_due_without_a_filing_in_effect() -> None:
    filings = [f(5 * H, 3, fl.GRANTED), f(20 * H, 3, fl.REVOKED), f(30 * H, 3, fl.SUBMITTED)]
    served = [0, H, 8 * H, 21 * H, 22 * H, 31 * H]
    # due at 2 h: hours 0 and 1 were within the grace; 21 and 22 h served while revoked
    unfiled = fl.unfiled_hours(filings, served, 3, due=2 * H)
    assert unfiled is not None
    assert unfiled.hours == (21 * H, 22 * H)
    assert unfiled.latest is not None
    assert unfiled.latest.status == fl.REVOKED
    # with "filed before launch" (due at the first service) the hours before the filing count
    before = fl.unfiled_hours(filings, served, 3, due=0)
    assert before is not None
    assert before.hours == (0, H, 21 * H, 22 * H)
    assert fl.unfiled_hours(filings, [8 * H, 31 * H], 3, due=0) is None


def test_a_service_that_never_filed_is_unfiled_from_its_due() -> None:
    unfiled = fl.unfiled_hours([], [0, 100 * H], fl.ALGORITHM_FILING, due=50 * H)
    assert unfiled is not None
    assert unfiled.hours == (100 * H,)
    assert unfiled.latest is None


def test_public_opinion_is_the_latest_registrations_word() -> None:
    regs = [f(100, 1, fl.GRANTED, po=True), f(200, 1, fl.GRANTED, po=False)]
    assert fl.public_opinion(regs, 150)
    assert not fl.public_opinion(regs, 250)
    assert not fl.public_opinion([], 250)


def _due(at: int) -> int:
    return at + 10 * DAY


def test_the_first_model_is_the_filings_own_not_a_change() -> None:
    assert fl.later_models([], [("m1", 0)], now=100 * DAY, due_of=_due) == []


def test_a_registration_naming_the_model_is_not_a_change_filing() -> None:
    filings = [f(2 * DAY, fl.REGISTRATION, fl.GRANTED, model="m2", po=True)]
    (change,) = fl.later_models(filings, [("m1", 0), ("m2", DAY)], 100 * DAY, _due)
    assert change.model == "m2"
    assert not change.late
    assert change.latest is None


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([f(2 * DAY, fl.CHANGE, fl.SUBMITTED, "m2")], None),  # in time, submitted
        ([f(0, fl.CHANGE, fl.GRANTED, "m2")], None),  # filed before it served
        ([f(0, fl.ALGORITHM_FILING, fl.GRANTED, "m2")], None),  # the algorithm filing names it
        (
            [f(2 * DAY, fl.CHANGE, fl.GRANTED, "m2"), f(5 * DAY, fl.CHANGE, fl.REVOKED, "m2")],
            "none",
        ),
        ([f(2 * DAY, fl.CHANGE, fl.REJECTED, "m2")], "none"),
        ([f(20 * DAY, fl.CHANGE, fl.SUBMITTED, "m2")], "late"),
        ([f(2 * DAY, fl.CHANGE, fl.SUBMITTED, "m3")], "none"),  # another model's change
    ],
)
def test_a_later_model_needs_a_change_filing_in_effect_in_time(
    events: list[Filing], expected: str | None
) -> None:
    out = fl.later_models(events, [("m1", 0), ("m2", DAY)], 100 * DAY, _due)
    if expected is None:
        assert out == []
    else:
        (change,) = out
        assert change.model == "m2"
        assert change.due == 11 * DAY
        assert change.late == (expected == "late")


def test_an_unfiled_change_is_a_violation_only_once_its_due_passed() -> None:
    assert fl.later_models([], [("m1", 0), ("m2", DAY)], 11 * DAY, _due) == []
    assert len(fl.later_models([], [("m1", 0), ("m2", DAY)], 11 * DAY + 1, _due)) == 1


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([f(0, fl.ASSESSMENT, fl.GRANTED, "m2")], None),  # assessed before it served
        ([f(2 * DAY, fl.ASSESSMENT, fl.SUBMITTED, "m2")], None),  # in time, submitted
        ([f(0, fl.ASSESSMENT, fl.GRANTED)], "none"),  # the service's assessment names no model
        ([f(0, fl.ASSESSMENT, fl.GRANTED, "m1")], "none"),  # the first model's
        ([f(0, fl.CHANGE, fl.GRANTED, "m2")], "none"),  # a change filing is no assessment
        ([f(20 * DAY, fl.ASSESSMENT, fl.GRANTED, "m2")], "late"),
        (
            [f(0, fl.ASSESSMENT, fl.GRANTED, "m2"), f(5 * DAY, fl.ASSESSMENT, fl.REVOKED, "m2")],
            "none",
        ),
    ],
)
def test_a_later_model_needs_a_security_assessment_naming_it(
    events: list[Filing], expected: str | None
) -> None:
    out = fl.later_models(events, [("m1", 0), ("m2", DAY)], 100 * DAY, _due, (fl.ASSESSMENT,))
    if expected is None:
        assert out == []
    else:
        (change,) = out
        assert (change.model, change.late) == ("m2", expected == "late")
    # the first model is the service's own assessment's (ART17-FILING), whatever it names
    assert fl.later_models([], [("m1", 0)], 100 * DAY, _due, (fl.ASSESSMENT,)) == []
