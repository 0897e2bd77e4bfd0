"""A bounded memory of recently accepted event ids, per provider.

The gateway answers DUPLICATE for an event id it has accepted before. The memory is bounded, in
ids and in bytes (oldest ids are forgotten first); the event store is idempotent on its own, so a
forgotten id that comes again is still stored once: the bound only limits how long a repeat is
*reported* as such.

Cost: every operation is O(1) whatever the fill. Ids are kept in claim order in a queue beside a
map from id to its claim number; the oldest is forgotten from the queue's head. (An insertion-
ordered dict evicted from its front is not O(1): CPython leaves the deleted slots in place, and
finding the first live key walks them, so each claim grew slower as the memory stayed full —
81 µs a claim after some minutes of load, measured; ``bench/dedup.py``.)
"""

from __future__ import annotations

from collections import deque

# What one remembered id costs beside its characters: the map's entry, the queue's slot, the key
# tuple and the two strings' headers (CPython 3.11, 64-bit; measured with tracemalloc, rounded up).
ENTRY_OVERHEAD_BYTES = 240


def _cost(key: tuple[str, str]) -> int:
    """The bytes an id is accounted for."""
    return len(key[0]) + len(key[1]) + ENTRY_OVERHEAD_BYTES


class RecentIds:
    """Claim ids before producing; release them when the broker did not take them. An id is
    remembered from its claim on: only the ingest path that claimed it settles it, so an
    accepted id needs no second write (this runs for every event received).

    At most ``capacity`` ids and ``max_bytes`` bytes (accounted: the ids' characters plus
    ``ENTRY_OVERHEAD_BYTES`` each) are remembered; the oldest go first."""

    def __init__(self, capacity: int, max_bytes: int | None = None) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self._capacity = capacity
        self._max_bytes = max_bytes if max_bytes is not None else capacity * 400
        if self._max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self._ids: dict[tuple[str, str], int] = {}  # id → its claim number
        # (id, claim number), oldest first
        self._order: deque[tuple[tuple[str, str], int]] = deque()
        self._claims = 0
        self.bytes = 0

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
        self._claims += 1
        ids[key] = self._claims
        self._order.append((key, self._claims))
        self.bytes += _cost(key)
        if len(ids) > self._capacity or self.bytes > self._max_bytes:
            self._evict()
        return True

    def _evict(self) -> None:
        """Forgets the oldest ids until within both bounds. A queue entry whose id was released
        (or released and claimed again later) is stale: dropped without forgetting anything.
        Each claim adds one entry, so this is O(1) amortised."""
        ids, order = self._ids, self._order
        while order and (len(ids) > self._capacity or self.bytes > self._max_bytes):
            key, number = order.popleft()
            if ids.get(key) == number:
                del ids[key]
                self.bytes -= _cost(key)

    def _compact(self) -> None:
        """Drops the stale entries releases left in the queue once they are as many as the live
        ones (a broker outage releases every claim it retries): O(1) amortised per release."""
        ids = self._ids
        self._order = deque(e for e in self._order if ids.get(e[0]) == e[1])

    def release(self, provider_id: str, event_id: str) -> None:
        """Forget an in-flight id whose produce failed, so that a retry is accepted."""
        key = (provider_id, event_id)
        if self._ids.pop(key, None) is not None:
            self.bytes -= _cost(key)
            if len(self._order) > 2 * len(self._ids) + 1024:
                self._compact()

    def remember(self, provider_id: str, event_id: str) -> None:
        """Record an id known to be stored (warm start from the event store)."""
        self.claim(provider_id, event_id)
