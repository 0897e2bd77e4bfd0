"""A service's registrations and the complaint deadline they publish over time (Art. 15). Pure.

A complaint takes the response deadline its service had published when the complaint was
received: the latest registration at or before that instant (0 days: none published, the
rule's default applies), in the unit it published (working or calendar days). Registrations
may arrive in any order; the history keeps all of them, so the deadline in force at any
instant depends only on which registrations exist.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

# (event time, event id, published complaint deadline in days (0 when none), whether they are
# working days)
Registration = tuple[float, str, float, bool]
# jianguan.v1.DayCount as the rules see it (``Observed``): a deadline published in working days
WORKING_DAYS = "WORKING_DAYS"


def in_force(history: Sequence[Registration], at: float) -> Registration | None:
    """The registration whose deadline is in force at ``at``; ``history`` sorted."""
    i = bisect.bisect_right(history, at, key=lambda e: e[0])
    return history[i - 1] if i else None


def add(history: list[Registration], entry: Registration) -> tuple[float, float] | None:
    """Inserts ``entry`` (kept sorted; a known event id changes nothing). Returns the span of
    instants for which it is now the registration in force (their complaints are decided
    again: the deadline, or at least the registration it is quoted from, changed), or None."""
    if any(e[1] == entry[1] for e in history):
        return None
    position = bisect.bisect_left(history, entry)
    history.insert(position, entry)
    after = history[position + 1] if position + 1 < len(history) else None
    return entry[0], after[0] if after is not None else math.inf


def remove(history: list[Registration], event_id: str) -> tuple[float, float] | None:
    """Takes out the registration ``event_id`` (withdrawn by its provider). Returns the span of
    instants for which it was the registration in force (their complaints are decided again,
    under the one before it), or None when the history has no such registration."""
    for position, entry in enumerate(history):
        if entry[1] == event_id:
            del history[position]
            after = history[position] if position < len(history) else None
            return entry[0], after[0] if after is not None else math.inf
    return None
