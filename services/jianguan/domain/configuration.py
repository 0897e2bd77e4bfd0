"""The rules' configuration over time. Pure.

Where the law sets no number, a rule's parameters are configuration (``JIANGUAN_RULE_OVERRIDES``
over the catalog's defaults), and so is the working calendar. Configuration changes; decisions
must not change with it after the fact. Each configuration the processors ran with is recorded
with the instant it took effect, and a case is decided with the configuration in force at its
first event's time, live and in a replay alike: a replay reproduces every case exactly, however
often the configuration changed since.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from jianguan.domain.calendar import WorkingCalendar

Overrides = Mapping[str, Mapping[str, float]]


@dataclass(frozen=True, slots=True)
class RuleConfiguration:
    effective_from: float
    overrides: Overrides = field(default_factory=dict)
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)

    @property
    def digest(self) -> str:
        """Names the configuration's content (not when it took effect)."""
        doc = {
            "overrides": {r: dict(sorted(p.items())) for r, p in sorted(self.overrides.items())},
            "holidays": sorted(d.isoformat() for d in self.calendar.holidays),
            "workdays": sorted(d.isoformat() for d in self.calendar.workdays),
        }
        text = json.dumps(doc, sort_keys=True)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def changed(history: Sequence[RuleConfiguration], current: RuleConfiguration) -> bool:
    """Does ``current`` differ from the configuration last in force?"""
    return not history or history[-1].digest != current.digest


def in_force(history: Sequence[RuleConfiguration], at: float) -> int:
    """The index of the configuration in force at ``at`` in ``history`` (sorted by time; the
    first also governs what came before it)."""
    i = bisect.bisect_right(history, at, key=lambda c: c.effective_from)
    return max(0, i - 1)


def dates(values: Sequence[date | str]) -> frozenset[date]:
    return frozenset(v if isinstance(v, date) else date.fromisoformat(v) for v in values)
