"""Per-provider event-time watermarks for deadlines. Pure (the caller passes the wall clock).

A deadline is missed when the watermark passes it. While a provider reports, its watermark is
the latest event time it reported, so a provider sending a backlog is judged by its own clock,
not by ours; but never ahead of the wall clock (a provider's clock may run fast) nor more than
``max_delay_s`` behind it (a provider cannot hold its deadlines back by stamping its events in
the past). When a provider has been silent for ``idle_s``, the watermark is the wall clock:
deadlines expire even when nothing arrives. ``idle_s = 0`` gives the wall clock always.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Watermarks:
    idle_s: float = 0.0
    max_delay_s: float = 30.0
    _latest: dict[str, float] = field(default_factory=dict)  # provider → latest event time
    _arrived: dict[str, float] = field(default_factory=dict)  # provider → wall time of it

    def observe(self, provider_id: str, event_at: float, now: float) -> None:
        if event_at > self._latest.get(provider_id, float("-inf")):
            self._latest[provider_id] = event_at
        self._arrived[provider_id] = now

    def at(self, provider_id: str, now: float) -> float:
        arrived = self._arrived.get(provider_id)
        if arrived is None or now - arrived >= self.idle_s:
            return now
        return min(now, max(self._latest[provider_id], now - self.max_delay_s))
