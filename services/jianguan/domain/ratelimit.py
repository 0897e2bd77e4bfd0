"""Per-provider token buckets on an explicit clock."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    """Refills ``rate`` tokens per second up to ``burst``; one token admits one event."""

    rate: float
    burst: float
    tokens: float = field(default=-1.0)
    updated: float = 0.0

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst <= 0:
            raise ValueError("rate and burst must be positive")
        if self.tokens < 0:
            self.tokens = self.burst

    def available(self, now: float) -> float:
        """Tokens at time ``now`` (seconds), taking none."""
        if now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        return self.tokens

    def take(self, wanted: int, now: float) -> int:
        """Take up to ``wanted`` tokens at time ``now`` (seconds); return how many were granted."""
        granted = min(wanted, int(self.available(now)))
        self.tokens -= granted
        return granted


class RateLimiter:
    """One token bucket per provider, created on first use with that provider's limits."""

    def __init__(self) -> None:
        self._buckets: dict[str, TokenBucket] = {}

    def _bucket(self, provider_id: str, now: float, rate: float, burst: float) -> TokenBucket:
        bucket = self._buckets.get(provider_id)
        if bucket is None or bucket.rate != rate or bucket.burst != burst:
            bucket = TokenBucket(rate=rate, burst=burst, updated=now)
            self._buckets[provider_id] = bucket
        return bucket

    def take(self, provider_id: str, wanted: int, now: float, rate: float, burst: float) -> int:
        return self._bucket(provider_id, now, rate, burst).take(wanted, now)

    def available(self, provider_id: str, now: float, rate: float, burst: float) -> float:
        return self._bucket(provider_id, now, rate, burst).available(now)
