import pytest

from jianguan.domain.dedup import RecentIds
from jianguan.domain.ratelimit import TokenBucket


def test_token_bucket_refills_on_the_given_clock() -> None:
    b = TokenBucket(rate=10, burst=20, updated=0.0)
    assert b.take(25, now=0.0) == 20
    assert b.take(5, now=0.0) == 0
    assert b.take(5, now=0.3) == 3
    assert b.take(100, now=100.0) == 20


def test_token_bucket_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(rate=0, burst=1)


def test_recent_ids_claim_release_and_bound() -> None:
    ids = RecentIds(capacity=2)
    assert ids.claim("p", "a")
    assert not ids.claim("p", "a")
    assert ids.claim("q", "a"), "ids are per provider"
    ids.release("q", "a")
    ids.release("p", "a")
    assert ids.claim("p", "a"), "a released id is accepted again"
    assert ("p", "a") in ids
    ids.remember("p", "b")
    ids.remember("p", "c")  # evicts the oldest
    assert len(ids) == 2
    assert ("p", "a") not in ids
