"""Keys by the instant they next fall due, earliest first. Pure.

A key has at most one due instant: setting it again replaces the earlier one, and +inf removes it.
The heap keeps replaced entries until they surface or outnumber the live ones, when it is rebuilt
from the live keys: memory is bounded by the keys that are due some time (open cases), not by
every due instant ever set (a case opened and closed at once would otherwise leave its entry in
the heap until its deadline, days later).
"""

from __future__ import annotations

import heapq
import math

# Stale entries tolerated beyond twice the live keys before the heap is rebuilt.
_SLACK = 64


class DueQueue:
    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []
        self._due: dict[str, float] = {}

    def __len__(self) -> int:
        """Keys due some time."""
        return len(self._due)

    def due_of(self, key: str) -> float:
        """The key's due instant (+inf: none)."""
        return self._due.get(key, math.inf)

    def set(self, key: str, due: float) -> None:
        """The key falls due at ``due`` (+inf: never), whatever was set before."""
        if not math.isfinite(due):
            if self._due.pop(key, None) is not None:
                self._compact()
            return
        if self._due.get(key) == due:
            return
        self._due[key] = due
        heapq.heappush(self._heap, (due, key))
        self._compact()

    def pop_before(self, instant: float) -> list[str]:
        """Removes and returns the keys due before ``instant``, earliest first."""
        out: list[str] = []
        heap, due = self._heap, self._due
        while heap and heap[0][0] < instant:
            at, key = heapq.heappop(heap)
            if due.get(key) == at:  # else replaced or removed since
                del due[key]
                out.append(key)
        return out

    def _compact(self) -> None:
        if len(self._heap) > 2 * len(self._due) + _SLACK:
            self._heap = [(at, key) for key, at in self._due.items()]
            heapq.heapify(self._heap)
