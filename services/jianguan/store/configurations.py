"""The rules' configuration history in ClickHouse (``rule_configurations``)."""

from __future__ import annotations

import json
import math

from jianguan.domain.calendar import WorkingCalendar
from jianguan.domain.configuration import RuleConfiguration, changed, dates
from jianguan.store.executor import Executor

_COLUMNS = ("effective_from", "effective_from_ms", "digest", "overrides", "holidays", "workdays")


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
    """Records ``current`` unless it is the configuration already in force; returns the
    history including it."""
    past = history(executor)
    if not changed(past, current):
        return past
    seconds = math.floor(current.effective_from)
    executor.insert_columns(
        "rule_configurations",
        _COLUMNS,
        [
            [seconds],
            [int((current.effective_from - seconds) * 1000)],
            [current.digest],
            [json.dumps(current.overrides, sort_keys=True)],
            [sorted(d.isoformat() for d in current.calendar.holidays)],
            [sorted(d.isoformat() for d in current.calendar.workdays)],
        ],
    )
    return [*past, current]
