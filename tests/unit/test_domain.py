import pytest

from jianguan.domain.dedup import ENTRY_OVERHEAD_BYTES, RecentIds
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


def test_recent_ids_are_bounded_in_bytes_too() -> None:
    per_id = 1 + 2 + ENTRY_OVERHEAD_BYTES  # provider "p", ids of two characters
    ids = RecentIds(capacity=1000, max_bytes=3 * per_id)
    for n in range(5):
        assert ids.claim("p", f"e{n}")
    assert len(ids) == 3
    assert ids.bytes == 3 * per_id
    assert [("p", f"e{n}") in ids for n in range(5)] == [False, False, True, True, True]
    ids.release("p", "e4")
    assert ids.bytes == 2 * per_id


def test_a_released_and_reclaimed_id_counts_from_its_new_claim() -> None:
    ids = RecentIds(capacity=2)
    ids.claim("p", "a")
    ids.claim("p", "b")
    ids.release("p", "a")
    ids.claim("p", "a")  # now newer than b
    ids.claim("p", "c")  # forgets the oldest live claim: b, not a
    assert ("p", "a") in ids
    assert ("p", "b") not in ids
    assert ("p", "c") in ids


def test_releases_leave_no_unbounded_trail() -> None:
    """A broker outage releases every claim it retries: the claim order stays bounded."""
    ids = RecentIds(capacity=1_000_000)
    ids.claim("p", "kept")
    for n in range(20_000):
        ids.claim("p", f"retry-{n}")
        ids.release("p", f"retry-{n}")
    assert len(ids) == 1
    assert len(ids._order) <= 2 * len(ids) + 1024 + 1
    assert ids.claim("p", "new")
    assert not ids.claim("p", "kept")
