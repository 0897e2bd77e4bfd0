"""The rules' configuration history in ClickHouse (``rule_configurations``), and the compliance
grade's parameters in force (``grade_parameters``, which the ``report_cards`` view reads)."""

from __future__ import annotations

import json
import math

from jianguan.domain.calendar import WorkingCalendar
from jianguan.domain.configuration import RuleConfiguration, changed, dates
from jianguan.domain.rules.catalog import BY_ID
from jianguan.store.executor import Executor

_COLUMNS = ("effective_from", "effective_from_ms", "digest", "overrides", "holidays", "workdays")
GRADE = "ART16-GRADE"
# The grade's parameters as grade_parameters keeps them: column, and its Python type.
_GRADE_PARAMS: dict[str, type[float] | type[int]] = {
    "grade_a_error_rate": float, "max_error_rate": float, "grade_b_missed_deadlines": int,
    "late_report_hours": float,
}  # fmt: skip


def history(executor: Executor) -> list[RuleConfiguration]:
    """Every recorded configuration, oldest first."""
    rows = executor.execute(
        "SELECT toUInt32(effective_from), effective_from_ms, overrides, holidays, workdays"
        " FROM rule_configurations FINAL ORDER BY effective_from, effective_from_ms, digest"
    )
    return [
        RuleConfiguration(
            seconds + ms / 1000,
            json.loads(overrides),
            WorkingCalendar(holidays=dates(holidays), workdays=dates(workdays)),
        )
        for seconds, ms, overrides, holidays, workdays in rows
    ]


def record(executor: Executor, current: RuleConfiguration) -> list[RuleConfiguration]:
    """Records ``current`` unless it is the configuration already in force, and the grade's
    parameters of the configuration in force unless recorded; returns the history including
    it. Idempotent."""
    past = history(executor)
    if changed(past, current):
        seconds, ms = _instant(current.effective_from)
        executor.insert_columns(
            "rule_configurations",
            _COLUMNS,
            [
                [seconds],
                [ms],
                [current.digest],
                [json.dumps(current.overrides, sort_keys=True)],
                [sorted(d.isoformat() for d in current.calendar.holidays)],
                [sorted(d.isoformat() for d in current.calendar.workdays)],
            ],
        )
        past = [*past, current]
    _record_grade_parameters(executor, past[-1])
    return past


def _instant(at: float) -> tuple[int, int]:
    seconds = math.floor(at)
    return seconds, int((at - seconds) * 1000)


def _record_grade_parameters(executor: Executor, in_force: RuleConfiguration) -> None:
    """The grade's parameter values of the configuration in force, from when it took effect
    (also for a configuration recorded before the grade read them)."""
    latest = executor.execute(
        "SELECT digest FROM grade_parameters FINAL"
        " ORDER BY effective_from DESC, effective_from_ms DESC LIMIT 1"
    )
    if latest and latest[0][0] == in_force.digest:
        return
    values = BY_ID[GRADE].values(in_force.overrides.get(GRADE))
    seconds, ms = _instant(in_force.effective_from)
    executor.insert_columns(
        "grade_parameters",
        ("effective_from", "effective_from_ms", "digest", *_GRADE_PARAMS),
        [
            [seconds],
            [ms],
            [in_force.digest],
            *([kind(values[p])] for p, kind in _GRADE_PARAMS.items()),
        ],
    )
