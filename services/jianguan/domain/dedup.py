"""A bounded memory of recently accepted event ids, per provider.

The gateway answers DUPLICATE for an event id it has accepted before. The memory is bounded
(oldest ids are forgotten first); the event store is idempotent on its own, so a forgotten id that
comes again is still stored once: the bound only limits how long a repeat is *reported* as such.
"""

from __future__ import annotations

PENDING = 1
ACCEPTED = 2


class RecentIds:
    """Claim ids before producing, then confirm or release them after the broker answered."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self._capacity = capacity
        # Insertion-ordered, so the first key is the oldest: eviction is O(1).
        self._ids: dict[tuple[str, str], int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._ids

    def claim(self, provider_id: str, event_id: str) -> bool:
        """Mark an id as in flight. False when it is already known (accepted or in flight)."""
        key = (provider_id, event_id)
        if key in self._ids:
            return False
        self._ids[key] = PENDING
        if len(self._ids) > self._capacity:
            del self._ids[next(iter(self._ids))]
        return True

    def confirm(self, provider_id: str, event_id: str) -> None:
        key = (provider_id, event_id)
        if key in self._ids:
            self._ids[key] = ACCEPTED

    def release(self, provider_id: str, event_id: str) -> None:
        """Forget an in-flight id whose produce failed, so that a retry is accepted."""
        key = (provider_id, event_id)
        if self._ids.get(key) == PENDING:
            del self._ids[key]

    def remember(self, provider_id: str, event_id: str) -> None:
        """Record an id known to be stored (warm start from the event store)."""
        self.claim(provider_id, event_id)
        self.confirm(provider_id, event_id)
