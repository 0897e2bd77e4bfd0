"""The working-day edges of the store checks that SQL cannot count (pure post-processing)."""

from __future__ import annotations

from datetime import datetime

from jianguan.domain.calendar import CST, WorkingCalendar
from jianguan.store.checks import _late_cancellations, _late_change_filings

FIRST_SEEN = datetime(2026, 6, 5, 9, 0, tzinfo=CST).timestamp()  # a Friday
CAL = WorkingCalendar()
DEADLINE = CAL.deadline(FIRST_SEEN, 10)  # end of the 10th working day after
PARAMS = {"change_working_days": 10, "cancellation_working_days": 10, "stopped_after_days": 30}


def test_change_filed_just_in_time_or_one_second_late() -> None:
    row = ("acme", "svc", "m2", FIRST_SEEN)
    assert _late_change_filings([(*row, DEADLINE)], PARAMS, DEADLINE + 86400, CAL) == []
    (late,) = _late_change_filings([(*row, DEADLINE + 1)], PARAMS, DEADLINE + 86400, CAL)
    assert "late" in late[4]


def test_unfiled_change_is_a_violation_only_after_the_deadline() -> None:
    row = ("acme", "svc", "m2", FIRST_SEEN, 0)
    assert _late_change_filings([row], PARAMS, DEADLINE, CAL) == []
    assert len(_late_change_filings([row], PARAMS, DEADLINE + 1, CAL)) == 1


def test_cancellation_edges_and_a_service_still_serving() -> None:
    now = FIRST_SEEN + 40 * 86400
    assert _late_cancellations([("acme", "svc", FIRST_SEEN, DEADLINE)], PARAMS, now, CAL) == []
    assert (
        len(_late_cancellations([("acme", "svc", FIRST_SEEN, DEADLINE + 1)], PARAMS, now, CAL)) == 1
    )
    assert len(_late_cancellations([("acme", "svc", FIRST_SEEN, 0)], PARAMS, now, CAL)) == 1
    recent = now - 29 * 86400  # silent for less than stopped_after_days: still serving
    assert _late_cancellations([("acme", "svc", recent, 0)], PARAMS, now, CAL) == []


def test_a_configured_holiday_moves_the_deadline() -> None:
    from datetime import date

    holiday = WorkingCalendar(holidays=frozenset({date(2026, 6, 8)}))  # the Monday after
    row = ("acme", "svc", "m2", FIRST_SEEN, DEADLINE + 1)  # a second late on weekdays only
    assert _late_change_filings([row], PARAMS, DEADLINE + 86400, holiday) == []


def test_an_alert_is_published_once_and_again_only_when_its_severity_changes() -> None:
    from jianguan.contracts import pb
    from jianguan.processors.monitor import unpublished

    def alert(alert_id: str, severity: str) -> pb.cases_pb2.Alert:
        return pb.cases_pb2.Alert(alert_id=alert_id, severity=severity)

    found = [alert("a", "high"), alert("b", "high"), alert("b", "high"), alert("c", "critical")]
    fresh = unpublished(found, {"a": "high", "c": "high"})
    assert [(a.alert_id, a.severity) for a in fresh] == [("b", "high"), ("c", "critical")]
    assert unpublished(found, {"a": "high", "b": "high", "c": "critical"}) == []


def test_the_labeling_summary_judges_with_the_checks_condition() -> None:
    """Migration 0015 keeps the labelled count at insert time with a copy of LABEL_OK (SQL cannot
    import it): every condition on labels in that file is this one."""
    from importlib import resources

    from jianguan.store.checks import LABEL_OK

    sql = (
        resources.files("jianguan.store")
        .joinpath("migrations", "0015_check_summaries.sql")
        .read_text(encoding="utf-8")
    )
    assert sql.count("explicit_label = 1") == sql.count(LABEL_OK) == 4


def test_no_check_reads_the_event_store() -> None:
    """Checks read the summaries (migration 0015): a query over `events` costs the history."""
    from jianguan.store.checks import CHECKS

    for check in CHECKS:
        assert " events" not in check.sql.replace("\n", " "), check.rule_id
