"""The working-day edges of the store checks that SQL cannot count (pure post-processing)."""

from __future__ import annotations

from datetime import datetime

from jianguan.domain.calendar import CST, WorkingCalendar
from jianguan.domain.said import say
from jianguan.store.checks import _late_cancellations, _late_change_filings, _unfiled_services

FIRST_SEEN = datetime(2026, 6, 5, 9, 0, tzinfo=CST).timestamp()  # a Friday
CAL = WorkingCalendar()
DEADLINE = CAL.deadline(FIRST_SEEN, 10)  # end of the 10th working day after
IN_FORCE = 1_692_028_800  # 2023-08-15 00:00 Beijing time
PARAMS = {
    "change_working_days": 10, "cancellation_working_days": 10, "stopped_after_days": 30,
    "in_force": IN_FORCE,
}  # fmt: skip


REGISTERED = (int(FIRST_SEEN) - 86400, "reg", 1, 2, "m1", 1)  # public opinion, granted


def _change_row(*filings: tuple[object, ...]) -> tuple[object, ...]:
    # (model, first served, last served)
    models = [
        ("m1", int(FIRST_SEEN) - 3600, int(FIRST_SEEN)),
        ("m2", int(FIRST_SEEN), int(DEADLINE)),
    ]
    return ("acme", "svc", models, [REGISTERED, *filings])


def test_change_filed_just_in_time_or_one_second_late() -> None:
    in_time = _change_row((int(DEADLINE), "chg", 4, 1, "m2", 0))
    assert _late_change_filings([in_time], PARAMS, DEADLINE + 86400, CAL) == []
    late = _change_row((int(DEADLINE) + 1, "chg", 4, 1, "m2", 0))
    ((provider, service, model, _, summary, evidence),) = _late_change_filings(
        [late], PARAMS, DEADLINE + 86400, CAL
    )
    assert (provider, service, model, evidence) == ("acme", "svc", "m2", ["chg"])
    assert "filed 10+ working days late" in say(summary)


def test_unfiled_change_is_a_violation_only_after_the_deadline() -> None:
    row = _change_row()
    assert _late_change_filings([row], PARAMS, DEADLINE, CAL) == []
    assert len(_late_change_filings([row], PARAMS, DEADLINE + 1, CAL)) == 1


def test_a_revoked_change_filing_or_a_registration_is_no_change_filing() -> None:
    revoked = _change_row(
        (int(FIRST_SEEN), "chg", 4, 2, "m2", 0), (int(FIRST_SEEN) + 9, "rv", 4, 4, "m2", 0)
    )
    ((*_, summary, evidence),) = _late_change_filings([revoked], PARAMS, DEADLINE + 1, CAL)
    assert "latest change filing: revoked" in say(summary)
    assert evidence == ["rv"]
    registration = _change_row((int(FIRST_SEEN), "reg2", 1, 2, "m2", 1))
    assert len(_late_change_filings([registration], PARAMS, DEADLINE + 1, CAL)) == 1


def test_a_service_without_public_opinion_attributes_needs_no_change_filing() -> None:
    models = [("m1", 0, 0), ("m2", int(FIRST_SEEN), int(FIRST_SEEN))]
    plain = ("acme", "svc", models, [(0, "reg", 1, 2, "m1", 0)])
    assert _late_change_filings([plain], PARAMS, DEADLINE + 1, CAL) == []


FILING_PARAMS = {"filing_working_days": 10, "assessment_working_days": 0, "in_force": IN_FORCE}
START_HOUR = int(FIRST_SEEN) // 3600 * 3600


def _service_row(filings: list[tuple[object, ...]], hours: list[int]) -> tuple[object, ...]:
    return ("acme", "svc", int(FIRST_SEEN), [REGISTERED, *filings], [(h, 7) for h in hours])


ASSESSED = (int(FIRST_SEEN) - 60, "sa", 2, 1, "", 0)  # carried out (submitted) before serving


def test_an_algorithm_filing_submitted_within_ten_working_days_meets_art17() -> None:
    row = _service_row(
        [ASSESSED, (int(DEADLINE) - 5, "af", 3, 1, "", 0)], [START_HOUR, int(DEADLINE) + 7200]
    )
    assert _unfiled_services([row], FILING_PARAMS, DEADLINE + 86400, CAL) == []


def test_serving_past_the_due_with_a_revoked_filing_is_a_violation() -> None:
    after = int(DEADLINE) // 3600 * 3600 + 7200
    filings = [ASSESSED, (int(FIRST_SEEN), "af", 3, 2, "", 0), (after - 3600, "rv", 3, 4, "", 0)]
    ((_, service, subject, served, summary, evidence),) = _unfiled_services(
        [_service_row(filings, [START_HOUR, after, after + 3600])],
        FILING_PARAMS,
        after + 86400,
        CAL,
    )
    assert (service, subject, served, evidence) == ("svc", "svc", 14, ["rv"])
    assert "no algorithm filing in effect" in say(summary)
    assert "latest algorithm filing: revoked" in say(summary)
    assert "security assessment" not in say(summary)


def test_filed_before_launch_is_a_configuration_choice() -> None:
    filed_next_day = [ASSESSED, (int(FIRST_SEEN) + 86400, "af", 3, 1, "", 0)]
    row = _service_row(filed_next_day, [START_HOUR])
    assert _unfiled_services([row], FILING_PARAMS, DEADLINE + 86400, CAL) == []
    strict = {**FILING_PARAMS, "filing_working_days": 0}
    ((*_, summary, _),) = _unfiled_services([row], strict, DEADLINE + 86400, CAL)
    assert "no algorithm filing in effect (due" in say(summary)
    assert "before serving began" in say(summary)


def test_serving_before_the_security_assessment_was_carried_out_is_a_violation() -> None:
    filed = (int(FIRST_SEEN), "af", 3, 1, "", 0)
    late_assessment = (int(FIRST_SEEN) + 2 * 86400, "sa", 2, 1, "", 0)
    row = _service_row([filed, late_assessment], [START_HOUR])
    ((*_, summary, _),) = _unfiled_services([row], FILING_PARAMS, DEADLINE, CAL)
    assert "no security assessment in effect" in say(summary)
    assert "algorithm filing" not in say(summary)


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
    row = _change_row((int(DEADLINE) + 1, "chg", 4, 1, "m2", 0))  # late on weekdays only
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


def _migration(name: str) -> str:
    from importlib import resources

    return (
        resources.files("jianguan.store").joinpath("migrations", name).read_text(encoding="utf-8")
    )


def test_the_labeling_summary_judges_with_the_checks_condition() -> None:
    """Migration 0022 (the latest to define them) keeps the labelled count and the reasons at
    insert time with copies of LABEL_OK, the output types and UNLABELED_REASON (SQL cannot import
    them): every condition on labels in that file is this one. So do the summaries of the
    labeled files by ContentProducer (0024) and of their ProduceIDs (0025, 0026)."""
    from jianguan.store.checks import (
        LABEL_OK,
        LABELED_FILES,
        LABELED_OUTPUTS,
        UNLABELED_REASON,
        VALID_PRODUCE_ID,
    )

    sql = _migration("0022_labeling_waiver_and_text.sql")
    assert sql.count("explicit_label = 1") == sql.count(LABEL_OK) == 4
    assert sql.count("output_type IN") == sql.count(LABELED_OUTPUTS) == 4
    assert sql.count("multiIf") == sql.count(UNLABELED_REASON) == 2
    producers = _migration("0024_label_producers.sql")  # the labeled files by ContentProducer
    assert producers.count("explicit_label = 1") == producers.count(LABEL_OK) == 2
    assert producers.count("output_type IN") == producers.count(LABELED_FILES) == 2
    produce_ids = _migration("0025_produce_ids.sql")  # every valid ProduceID of a file
    assert produce_ids.count("match(produce_id") == 2 * produce_ids.count(VALID_PRODUCE_ID) == 8
    assert produce_ids.count("output_type IN") == produce_ids.count(LABELED_FILES) == 4
    ingested = _migration("0026_produce_id_intake.sql")  # by the second they came in
    assert ingested.count("match(produce_id") == 2 * ingested.count(VALID_PRODUCE_ID) == 4
    assert ingested.count("output_type IN") == ingested.count(LABELED_FILES) == 2


def test_no_check_reads_the_event_store() -> None:
    """Checks read the summaries (migration 0015): a query over `events` costs the history."""
    from jianguan.store.checks import CHECKS

    for check in CHECKS:
        assert " events" not in check.sql.replace("\n", " "), check.rule_id


def test_nothing_is_due_before_the_measures_took_effect() -> None:
    """A service serving since before 2023-08-15 without a filing was due under Art. 17 only from
    then: the alert names that due, and an hour served before it is no violation."""
    before = IN_FORCE - 30 * 86400
    row = (
        "acme",
        "svc",
        before,
        [(before - 60, "reg", 1, 2, "m1", 1)],
        [(before // 3600 * 3600, 3)],
    )
    assert _unfiled_services([row], FILING_PARAMS, IN_FORCE + 86400, CAL) == []
    after = IN_FORCE + 7200
    row = ("acme", "svc", before, [(before - 60, "reg", 1, 2, "m1", 1)], [(after, 5)])
    ((*_, served, summary, _),) = _unfiled_services([row], FILING_PARAMS, after + 86400, CAL)
    assert served == 5
    assert "due 2023-08-15 00:00:00 Beijing time, when Art. 17 took effect" in say(summary)


def test_the_catalog_dates_each_rule() -> None:
    from jianguan.domain.rules.catalog import BY_ID

    assert BY_ID["ART14-ILLEGAL-CONTENT"].in_force_s == IN_FORCE
    assert BY_ID["ART12-LABELING"].in_force == "2025-09-01"
    assert "GB 45438" in BY_ID["ART12-LABELING"].in_force_source
