"""Safety evaluations of the model versions a service serves (Art. 4; TC260-003-2024). Pure.

Art. 4 asks that a service not generate prohibited content (item 1) and that it make generated
content accurate and reliable (item 5). The security assessment requirements of TC260-003-2024
(生成式人工智能服务安全基本要求) measure that per model version: the keyword library the service
filters with, the share of acceptable answers on a generated-content test set, the share refused
on a should-refuse set and the share refused on a should-answer set (over-refusal), each on a
minimum number of questions. The figures the platform holds a model to are configuration
(``Thresholds``, from ART4-SAFETY-EVALUATION's parameters), with the standard's as defaults.

A model is judged by its latest evaluation as of the instant judged (a provider fixes a shortfall
by evaluating again), and by whether it had an evaluation before it first served (within a grace)
and one recent enough whenever it last served.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DAY = 86400


@dataclass(frozen=True, slots=True, order=True)
class Evaluation:
    at: int  # UNIX seconds
    event_id: str
    model: str
    keywords: int
    content: tuple[int, int]  # questions, acceptable
    refuse: tuple[int, int]  # questions, refused
    answer: tuple[int, int]  # questions, refused (over-refusal)


@dataclass(frozen=True, slots=True)
class Thresholds:
    min_keywords: int
    min_content_questions: int
    min_content_acceptable: float
    min_refusal_questions: int
    min_refusal_rate: float
    min_answer_questions: int
    max_over_refusal_rate: float
    grace_days: float
    max_age_days: float

    @classmethod
    def of(cls, params: Mapping[str, Any]) -> Thresholds:
        return cls(
            int(params["min_keywords"]),
            int(params["min_content_questions"]),
            float(params["min_content_acceptable"]),
            int(params["min_refusal_questions"]),
            float(params["min_refusal_rate"]),
            int(params["min_answer_questions"]),
            float(params["max_over_refusal_rate"]),
            float(params["grace_days"]),
            float(params["max_age_days"]),
        )


@dataclass(frozen=True, slots=True)
class Shortfall:
    """One figure of an evaluation short of its threshold: which (``what``), the figure, the
    number of questions it is of (0 for the keyword library) and the threshold."""

    what: str
    figure: float
    questions: int
    threshold: float


KEYWORDS, CONTENT_SAMPLE, CONTENT_RATE = "keywords", "content_questions", "content_rate"
REFUSAL_SAMPLE, REFUSAL_RATE = "refusal_questions", "refusal_rate"
ANSWER_SAMPLE, OVER_REFUSAL_RATE = "answer_questions", "over_refusal_rate"


def _rate(counted: int, questions: int) -> float:
    return counted / questions if questions else 0.0


def shortfalls(e: Evaluation, t: Thresholds) -> list[Shortfall]:
    """What of ``e`` falls short of ``t``, in the order the standard lists them. A test set too
    small is a shortfall of its own, and its rate is judged all the same. A count beyond its
    questions is impossible, and counts as a rate of 0 (acceptable, refused) or 1 (over-refused)."""
    out = []
    if e.keywords < t.min_keywords:
        out.append(Shortfall(KEYWORDS, e.keywords, 0, t.min_keywords))
    sets = (
        (e.content, CONTENT_SAMPLE, t.min_content_questions, CONTENT_RATE,
         t.min_content_acceptable),
        (e.refuse, REFUSAL_SAMPLE, t.min_refusal_questions, REFUSAL_RATE, t.min_refusal_rate),
    )  # fmt: skip
    for (questions, counted), sample, least, rate, floor in sets:
        if questions < least:
            out.append(Shortfall(sample, questions, 0, least))
        got = _rate(counted, questions) if counted <= questions else 0.0
        if got < floor:
            out.append(Shortfall(rate, got, questions, floor))
    questions, refused = e.answer
    if questions < t.min_answer_questions:
        out.append(Shortfall(ANSWER_SAMPLE, questions, 0, t.min_answer_questions))
    over = _rate(refused, questions) if refused <= questions else 1.0
    if over > t.max_over_refusal_rate:
        out.append(Shortfall(OVER_REFUSAL_RATE, over, questions, t.max_over_refusal_rate))
    return out


@dataclass(frozen=True, slots=True)
class Finding:
    """Why a served model breaks the rule (any of the four may hold at once)."""

    model: str
    first_served: int
    last_served: int
    latest: Evaluation | None  # as of the instant judged
    first_evaluated: int | None  # when its first evaluation was made
    unevaluated: bool  # served past its grace with no evaluation at all
    late: bool  # first evaluated only after its grace had passed
    short: tuple[Shortfall, ...]  # of the latest evaluation
    stale: bool  # last served on an evaluation older than max_age_days

    @property
    def evidence(self) -> tuple[str, ...]:
        return (self.latest.event_id,) if self.latest is not None else ()


def judge(
    models: Iterable[tuple[str, int, int]],
    evaluations: Iterable[Evaluation],
    now: int,
    t: Thresholds,
) -> list[Finding]:
    """The served models (name, first served, last served; served before ``now``) that break the
    rule as of ``now``: served past their grace with no evaluation of that model version, first
    evaluated only after it, last served on an evaluation older than ``max_age_days``, or with a
    latest evaluation short of the thresholds. An evaluation counts from the instant it was made:
    one made after ``now`` is not yet known."""
    known = sorted(e for e in evaluations if e.at <= now)
    grace = t.grace_days * DAY
    out = []
    for model, first, last in sorted(models):
        if not model or first >= now:
            continue
        mine = [e for e in known if e.model == model]
        latest = mine[-1] if mine else None
        first_evaluated = mine[0].at if mine else None
        unevaluated = latest is None and now > first + grace
        late = first_evaluated is not None and first_evaluated > first + grace
        short = tuple(shortfalls(latest, t)) if latest is not None else ()
        stale = False
        if latest is not None and t.max_age_days > 0:
            # the evaluation in force when it last served: the latest made by then
            then = [e for e in mine if e.at <= last]
            stale = bool(then) and last > then[-1].at + t.max_age_days * DAY
        if unevaluated or late or short or stale:
            found = (unevaluated, late, short, stale)
            out.append(Finding(model, first, last, latest, first_evaluated, *found))
    return out
