"""Deadlines counted in days (Art. 15 complaints) and working days (Art. 11 requests, Art. 17
filings). Pure.

Dates are civil dates in China Standard Time (UTC+8, no daylight saving). Weekends are rest days;
``holidays`` adds public holidays and ``workdays`` the weekend days declared working days (调休).
Both are configuration: the State Council publishes them each year.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")


def beijing_time(at: float) -> str:
    """``at`` (Unix seconds) in Beijing time to the second, as findings and the console write a
    time: "YYYY-MM-DD HH:MM:SS"."""
    return datetime.fromtimestamp(float(at), CST).strftime("%Y-%m-%d %H:%M:%S")


def end_of_days_after(start_s: float, days: float) -> float:
    """When a period of ``days`` days from ``start_s`` ends: at 24:00 (CST) of its last day,
    counted from the day after ``start_s`` (PRC Civil Code Arts. 201 and 203: the first day does
    not count, the last day ends at 24:00). A fraction of a day (a configured SLA such as 0.5)
    is counted exactly in seconds instead."""
    if days != int(days):
        return start_s + days * 86400
    day = datetime.fromtimestamp(start_s, CST).date() + timedelta(days=int(days))
    end = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=CST)
    return end.astimezone(UTC).timestamp()


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    @property
    def digest(self) -> str:
        """Names this calendar (its holidays and declared working days) in a fact's parameters:
        a deadline counted in working days depends on it."""
        text = ",".join(sorted(d.isoformat() for d in self.holidays))
        text += "|" + ",".join(sorted(d.isoformat() for d in self.workdays))
        return "weekdays" + (
            "" if text == "|" else "+" + hashlib.blake2b(text.encode(), digest_size=6).hexdigest()
        )

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def deadline(self, start_s: float, working_days: int) -> float:
        """End (23:59:59 CST) of the ``working_days``-th working day after the day of
        ``start_s``; the day of receipt itself does not count."""
        day = datetime.fromtimestamp(start_s, CST).date()
        counted = 0
        while counted < working_days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        end = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=CST)
        return end.astimezone(UTC).timestamp()
