"""Delivery with retries: resend only the items that may succeed later (rate limited, event log
unavailable, or the whole call failed in transit, whatever the status), with exponential backoff
and full jitter; a call refused for good (``errors.TERMINAL_CALLS``) is raised at once.

Safe because event ids are idempotency keys: an item whose ack was lost comes back DUPLICATE on
the retry — stored once, counted as delivered.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import grpc

from jianguan_sdk import pb
from jianguan_sdk.client import BatchPublisher
from jianguan_sdk.errors import TERMINAL_CALLS

S = pb.ingest_pb2
RETRYABLE_ITEMS = frozenset({S.ITEM_STATUS_RATE_LIMITED, S.ITEM_STATUS_UNAVAILABLE})


@dataclass
class Delivery:
    """``delivered`` items are stored (accepted now or before); ``rejected`` will never be: each
    keeps its index in the caller's list and the reason; ``undelivered`` ran out of attempts."""

    delivered: int = 0
    rejected: list[pb.ItemResult] = field(default_factory=list)
    undelivered: list[int] = field(default_factory=list)
    attempts: int = 0


def backoff_s(attempt: int, base_s: float, cap_s: float, rng: Callable[[], float]) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]."""
    return rng() * min(cap_s, base_s * float(2 ** (attempt - 1)))


async def publish_reliably(
    publisher: BatchPublisher,
    events: Sequence[pb.event_pb2.Event],
    max_attempts: int = 6,
    base_delay_s: float = 0.2,
    max_delay_s: float = 10.0,
    rng: Callable[[], float] = random.random,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Delivery:
    result = Delivery()
    pending = list(range(len(events)))
    while pending and result.attempts < max_attempts:
        result.attempts += 1
        try:
            ack = await publisher.publish_batch([events[i] for i in pending])
        except (grpc.aio.AioRpcError, ConnectionError, asyncio.TimeoutError) as exc:
            if isinstance(exc, grpc.aio.AioRpcError) and exc.code() in TERMINAL_CALLS:
                raise
            await sleep(backoff_s(result.attempts, base_delay_s, max_delay_s, rng))
            continue
        retry = []
        answered = {item.index for item in ack.results}
        for index in range(ack.received, len(pending)):
            if index not in answered:
                # the gateway could not read this far into the batch: not received, not stored
                ack.results.add(
                    index=index,
                    event_id=events[pending[index]].envelope.event_id,
                    status=S.ITEM_STATUS_INVALID,
                    reason=f"not received: the gateway read {ack.received} items of the batch",
                )
        for item in ack.results:
            original = pending[item.index]
            if item.status in RETRYABLE_ITEMS:
                retry.append(original)
            elif item.status == S.ITEM_STATUS_DUPLICATE:
                result.delivered += 1
            else:
                rejected = pb.ItemResult()
                rejected.CopyFrom(item)
                rejected.index = original
                rejected.field_path = item.field_path.replace(
                    f"events[{item.index}]", f"events[{original}]", 1
                )
                result.rejected.append(rejected)
        result.delivered += ack.accepted
        pending = sorted(retry)
        if pending and result.attempts < max_attempts:
            await sleep(backoff_s(result.attempts, base_delay_s, max_delay_s, rng))
    result.undelivered = pending
    return result
