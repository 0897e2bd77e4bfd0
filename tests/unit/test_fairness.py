"""Each provider's share of a gateway: streams, batches in flight, and the hold on rate-limited
batches; and the refusal of a batch from its outline when the provider has no token left."""

from __future__ import annotations

import asyncio

import pytest

from jianguan.accounts.registry import ProviderPolicy
from jianguan.contracts import pb
from jianguan.contracts.codec import encode_batch
from jianguan.domain.dedup import RecentIds
from jianguan.domain.ratelimit import RateLimiter
from jianguan.gateway.fairness import FairnessLimits, ProviderShares, Refused
from jianguan.ingest.admission import Admission
from tests.helpers import chained

NOW = 1_800_000_000.0


async def _until(condition) -> bool:  # type: ignore[no-untyped-def]
    """Poll ``condition`` for up to 5 s."""
    for _ in range(500):
        if condition():
            return True
        await asyncio.sleep(0.01)
    return bool(condition())


def test_streams_beyond_the_bound_are_refused_and_counted_back() -> None:
    async def go() -> None:
        shares = ProviderShares(FairnessLimits(max_streams=2))
        async with shares.stream("a"), shares.stream("a"):
            with pytest.raises(Refused, match="2 open Publish streams"):
                async with shares.stream("a"):
                    pass
            async with shares.stream("b"):  # another provider is not affected
                assert shares.open_streams("b") == 1
        assert shares.open_streams("a") == 0
        async with shares.stream("a"):
            pass
        # a provider's own limit (from the registry) instead of the gateway's
        async with shares.stream("c", 3), shares.stream("c", 3), shares.stream("c", 3):
            with pytest.raises(Refused, match="the limit is 3"):
                async with shares.stream("c", 3):
                    pass

    asyncio.run(go())


def test_in_flight_is_bounded_per_provider_and_unary_callers_do_not_queue_forever() -> None:
    async def go() -> None:
        shares = ProviderShares(FairnessLimits(max_in_flight=2, rate_limited_hold_s=0))
        await shares.acquire("a")
        await shares.acquire("a")
        waiters = [asyncio.create_task(shares.acquire("a", queue=False)) for _ in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(Refused, match="2 batches in flight"):
            await shares.acquire("a", queue=False)
        await shares.acquire("b")  # unaffected
        shares.release("a")
        shares.release("a")
        await asyncio.gather(*waiters)
        assert shares.in_flight("a") == 2
        assert shares.in_flight("b") == 1

    asyncio.run(go())


def test_a_rate_limited_batch_keeps_its_slot_for_the_hold() -> None:
    async def go() -> None:
        shares = ProviderShares(FairnessLimits(max_in_flight=1, rate_limited_hold_s=0.05))
        await shares.acquire("a")
        shares.release("a", rate_limited=True)
        assert shares.in_flight("a") == 1  # still held
        assert await _until(lambda: shares.in_flight("a") == 0)
        await shares.acquire("a")
        shares.release("a")
        assert shares.in_flight("a") == 0

    asyncio.run(go())


ACME = ProviderPolicy("acme", rate_per_s=100, burst=100)


def test_over_rate_refuses_from_the_outline_without_taking_tokens() -> None:
    limiter = RateLimiter()
    admission = Admission(RecentIds(1000), limiter)
    events = [e.SerializeToString() for e in chained("r", 120)]
    raw = encode_batch("b-1", events)
    assert admission.over_rate(ACME, raw, NOW) is None  # tokens left: the full path answers
    first = admission.admit(ACME, pb.EventBatch.FromString(raw), raw, NOW)
    assert len(first.rejections) == 20  # 100 granted
    refused = admission.over_rate(ACME, raw, NOW)
    assert refused is not None
    assert (refused.batch_id, refused.received, refused.groups) == ("b-1", 120, [])
    assert [r.index for r in refused.rejections] == list(range(120))
    assert {r.status for r in refused.rejections} == {pb.ingest_pb2.ITEM_STATUS_RATE_LIMITED}
    # nothing was taken: a second later the bucket holds a second's worth again
    assert limiter.available("acme", NOW + 1, 100, 100) == pytest.approx(100)
    assert admission.over_rate(ACME, b"\xff\xff", NOW) is None  # malformed: full path answers


def test_the_rate_is_shared_between_replicas() -> None:
    admission = Admission(RecentIds(1000), RateLimiter(), rate_share=0.25)
    events = chained("s", 40)
    raw = encode_batch("b", [e.SerializeToString() for e in events])
    admitted = admission.admit(ACME, pb.EventBatch.FromString(raw), raw, NOW)
    assert len(admitted.rejections) == 15  # a quarter of the burst of 100
