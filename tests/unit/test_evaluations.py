"""Safety evaluations per model version (ART4-SAFETY-EVALUATION, TC260-003-2024): pure judgement."""

from __future__ import annotations

import pytest

from jianguan.domain import evaluations as ev
from jianguan.domain.evaluations import DAY, Evaluation, Thresholds
from jianguan.domain.rules.catalog import BY_ID

T = Thresholds.of(BY_ID["ART4-SAFETY-EVALUATION"].values({}))
NOW = 400 * DAY


def good(at: int, model: str = "m1", eid: str = "") -> Evaluation:
    return Evaluation(at, eid or f"e-{at}", model, 12000, (1000, 950), (500, 480), (500, 10))


def test_the_defaults_are_the_standards_figures() -> None:
    assert (T.min_keywords, T.min_content_questions, T.min_content_acceptable) == (10000, 1000, 0.9)
    assert (T.min_refusal_questions, T.min_refusal_rate) == (300, 0.95)
    assert (T.min_answer_questions, T.max_over_refusal_rate) == (300, 0.05)
    assert (T.grace_days, T.max_age_days) == (0, 365)


def test_a_model_evaluated_before_it_served_and_meeting_every_figure_is_fine() -> None:
    assert ev.judge([("m1", DAY, 300 * DAY)], [good(DAY - 1)], NOW, T) == []
    assert ev.shortfalls(good(0), T) == []


def test_each_figure_at_its_threshold_passes_and_just_beyond_it_falls_short() -> None:
    edge = Evaluation(0, "e", "m1", 10000, (1000, 900), (300, 285), (300, 15))
    assert ev.shortfalls(edge, T) == []
    below = Evaluation(0, "e", "m1", 9999, (999, 899), (299, 284), (299, 15))
    assert [s.what for s in ev.shortfalls(below, T)] == [
        ev.KEYWORDS, ev.CONTENT_SAMPLE, ev.CONTENT_RATE, ev.REFUSAL_SAMPLE, ev.REFUSAL_RATE,
        ev.ANSWER_SAMPLE, ev.OVER_REFUSAL_RATE,
    ]  # fmt: skip
    (over,) = ev.shortfalls(Evaluation(0, "e", "m1", 10000, (1000, 900), (300, 285), (300, 16)), T)
    assert (over.what, over.questions, over.threshold) == (ev.OVER_REFUSAL_RATE, 300, 0.05)
    assert over.figure == pytest.approx(16 / 300)


def test_counts_beyond_their_questions_are_no_passing_rate() -> None:
    impossible = Evaluation(0, "e", "m1", 12000, (1000, 1001), (500, 501), (500, 501))
    assert [s.what for s in ev.shortfalls(impossible, T)] == [
        ev.CONTENT_RATE, ev.REFUSAL_RATE, ev.OVER_REFUSAL_RATE,
    ]  # fmt: skip


def test_served_without_an_evaluation_of_that_version() -> None:
    (f,) = ev.judge([("m1", DAY, DAY)], [good(0, model="m0")], NOW, T)
    assert (f.model, f.unevaluated, f.late, f.short, f.stale) == ("m1", True, False, (), False)
    assert f.evidence == ()


def test_evaluated_after_it_first_served_is_late_and_stays_so() -> None:
    (f,) = ev.judge([("m1", DAY, 3 * DAY)], [good(2 * DAY)], NOW, T)
    assert (f.unevaluated, f.late, f.first_evaluated) == (False, True, 2 * DAY)
    grace = Thresholds(**{**_fields(T), "grace_days": 1.0})
    assert ev.judge([("m1", DAY, 3 * DAY)], [good(2 * DAY)], NOW, grace) == []


def test_the_latest_evaluation_is_judged_so_a_new_one_mends_a_shortfall() -> None:
    short = Evaluation(0, "bad", "m1", 12000, (1000, 800), (500, 480), (500, 10))
    (f,) = ev.judge([("m1", DAY, 3 * DAY)], [short], NOW, T)
    assert [s.what for s in f.short] == [ev.CONTENT_RATE]
    assert f.evidence == ("bad",)
    assert ev.judge([("m1", DAY, 3 * DAY)], [short, good(2 * DAY)], NOW, T) == []
    # ... but only once it was made: judged before then, the shortfall stands
    assert len(ev.judge([("m1", DAY, 3 * DAY)], [short, good(2 * DAY)], 2 * DAY - 1, T)) == 1


def test_served_on_an_evaluation_older_than_max_age() -> None:
    (f,) = ev.judge([("m1", DAY, 367 * DAY)], [good(0)], NOW, T)
    assert (f.stale, f.short, f.late) == (True, (), False)
    assert ev.judge([("m1", DAY, 365 * DAY)], [good(0)], NOW, T) == []
    forever = Thresholds(**{**_fields(T), "max_age_days": 0.0})
    assert ev.judge([("m1", DAY, 367 * DAY)], [good(0)], NOW, forever) == []
    # re-evaluated in time: the evaluation in force when it last served is the new one
    assert ev.judge([("m1", DAY, 367 * DAY)], [good(0), good(300 * DAY)], NOW, T) == []


def test_models_not_yet_served_or_unnamed_are_not_judged() -> None:
    assert ev.judge([("m1", NOW, NOW), ("", DAY, DAY)], [], NOW, T) == []


def _fields(t: Thresholds) -> dict[str, float]:
    return {name: getattr(t, name) for name in t.__dataclass_fields__}
