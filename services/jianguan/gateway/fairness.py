"""Per-provider shares of one gateway, so that no provider can take the others' turn.

Three bounds, each checked before any work on a batch, each costing a provider only its own
service:

- **streams**: a provider holds at most ``max_streams`` open Publish streams (its own
  ``max_streams`` in the registry, else the gateway's); one more is refused (RESOURCE_EXHAUSTED)
  before it is read.
- **batches in flight**: at most ``max_in_flight`` of a provider's batches are being judged and
  produced at any moment, across all its streams and calls. A stream waits for its provider's
  slot before reading its next batch (gRPC flow control then holds the sender back); a unary
  call waits too, unless ``max_in_flight`` of the provider's calls already wait, then it is
  refused.
- **rate**: a batch answered RATE_LIMITED keeps its slot for ``rate_limited_hold_s``, so a
  provider over its rate slows its own streams down instead of making the gateway refuse
  thousands of batches a second.
- **insisting**: a call refused for a bound is answered after ``refusal_delay_s`` (one without a
  valid credential after ``unauthenticated_delay_s``), so a client that calls again in a loop
  waits on its own account instead of making the gateway refuse thousands of calls a second (a
  waiting call costs memory, not CPU; calls per connection are capped).

The bounds are per gateway process; see docs/operations.md for several replicas.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FairnessLimits:
    max_streams: int = 16
    max_in_flight: int = 8
    rate_limited_hold_s: float = 1.0
    refusal_delay_s: float = 5.0
    unauthenticated_delay_s: float = 1.0


DEFAULT_FAIRNESS = FairnessLimits()


async def pause(delay_s: float) -> None:
    """Wait half to one and a half times ``delay_s``, so that answers refused together do not
    all come back together."""
    await asyncio.sleep(delay_s * (0.5 + random.random()))


class Refused(Exception):
    """The provider is at one of its bounds; the message says which, for the caller."""


class _Share:
    __slots__ = ("slots", "streams", "waiting")

    def __init__(self, limits: FairnessLimits) -> None:
        self.slots = asyncio.Semaphore(limits.max_in_flight)
        self.streams = 0
        self.waiting = 0


class ProviderShares:
    """The bounds of every provider that has called this gateway (registered providers only:
    callers are authenticated first)."""

    def __init__(self, limits: FairnessLimits = DEFAULT_FAIRNESS) -> None:
        self.limits = limits
        self._shares: dict[str, _Share] = {}
        self._held: set[asyncio.Task[None]] = set()

    def _share(self, provider_id: str) -> _Share:
        share = self._shares.get(provider_id)
        if share is None:
            share = self._shares[provider_id] = _Share(self.limits)
        return share

    @asynccontextmanager
    async def stream(self, provider_id: str, limit: int = 0) -> AsyncIterator[None]:
        """One open Publish stream of ``provider_id``; Refused when it has its maximum
        (``limit``, the provider's own, or else the gateway's)."""
        share = self._share(provider_id)
        limit = limit or self.limits.max_streams
        if share.streams >= limit:
            raise Refused(
                f"provider {provider_id!r} already has {share.streams} open Publish streams"
                f" (the limit is {limit}): send more batches on each stream"
            )
        share.streams += 1
        try:
            yield
        finally:
            share.streams -= 1

    async def acquire(self, provider_id: str, queue: bool = True) -> None:
        """Wait for one of the provider's in-flight slots. With ``queue=False`` (unary calls),
        Refused instead when as many of its calls already wait as it has slots."""
        share = self._share(provider_id)
        if not queue and share.slots.locked() and share.waiting >= self.limits.max_in_flight:
            raise Refused(
                f"provider {provider_id!r} has {self.limits.max_in_flight} batches in flight and"
                f" as many waiting: retry later"
            )
        share.waiting += 1
        try:
            await share.slots.acquire()
        finally:
            share.waiting -= 1

    def release(self, provider_id: str, rate_limited: bool = False) -> None:
        """Give the slot back, after ``rate_limited_hold_s`` when the batch was rate limited."""
        share = self._share(provider_id)
        if not rate_limited or self.limits.rate_limited_hold_s <= 0:
            share.slots.release()
            return
        task = asyncio.get_running_loop().create_task(self._release_later(share))
        self._held.add(task)
        task.add_done_callback(self._held.discard)

    async def _release_later(self, share: _Share) -> None:
        try:
            await asyncio.sleep(self.limits.rate_limited_hold_s)
        finally:
            share.slots.release()

    def close(self) -> None:
        """Stop holding slots (the gateway is stopping)."""
        for task in list(self._held):
            task.cancel()

    def in_flight(self, provider_id: str) -> int:
        """Slots taken (being handled or held), for metrics and tests."""
        share = self._shares.get(provider_id)
        if share is None:
            return 0
        return self.limits.max_in_flight - share.slots._value

    def open_streams(self, provider_id: str) -> int:
        share = self._shares.get(provider_id)
        return 0 if share is None else share.streams
