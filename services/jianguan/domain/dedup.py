"""A bounded memory of recently accepted event ids, per provider.

The gateway answers DUPLICATE for an event id it has accepted before. The memory is bounded
(oldest ids are forgotten first); the event store is idempotent on its own, so a forgotten id that
comes again is still stored once: the bound only limits how long a repeat is *reported* as such.
"""

from __future__ import annotations


class RecentIds:
    """Claim ids before producing; release them when the broker did not take them. An id is
    remembered from its claim on: only the ingest path that claimed it settles it, so an
    accepted id needs no second write (this runs for every event received)."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self._capacity = capacity
        # Insertion-ordered, so the first key is the oldest: eviction is O(1).
        self._ids: dict[tuple[str, str], None] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._ids

    def claim(self, provider_id: str, event_id: str) -> bool:
        """Remember an id. False when it is already known (accepted or in flight)."""
        key = (provider_id, event_id)
        ids = self._ids
        if key in ids:
            return False
        ids[key] = None
        if len(ids) > self._capacity:
            del ids[next(iter(ids))]
        return True

    def release(self, provider_id: str, event_id: str) -> None:
        """Forget an in-flight id whose produce failed, so that a retry is accepted."""
        self._ids.pop((provider_id, event_id), None)

    def remember(self, provider_id: str, event_id: str) -> None:
        """Record an id known to be stored (warm start from the event store)."""
        self.claim(provider_id, event_id)
