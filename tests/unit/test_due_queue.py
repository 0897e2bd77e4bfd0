"""The rules' deadline queue: earliest first, one instant per key, memory bounded by live keys."""

import math
import random

from jianguan.domain.due_queue import DueQueue


def test_keys_come_out_earliest_first_and_only_once() -> None:
    q = DueQueue()
    q.set("b", 20.0)
    q.set("a", 10.0)
    q.set("c", 30.0)
    assert q.pop_before(25.0) == ["a", "b"]
    assert q.pop_before(25.0) == []
    assert len(q) == 1
    assert q.due_of("c") == 30.0
    assert q.due_of("a") == math.inf


def test_setting_again_replaces_and_infinity_removes() -> None:
    q = DueQueue()
    q.set("a", 10.0)
    q.set("a", 50.0)  # met, a later obligation next
    q.set("b", 5.0)
    q.set("b", math.inf)  # closed
    assert q.pop_before(40.0) == []
    assert q.pop_before(60.0) == ["a"]
    assert len(q) == 0


def test_a_key_set_back_to_an_earlier_instant_comes_out_once() -> None:
    q = DueQueue()
    q.set("a", 10.0)
    q.set("a", 20.0)
    q.set("a", 10.0)
    assert q.pop_before(30.0) == ["a"]


def test_memory_follows_the_live_keys_not_every_instant_ever_set() -> None:
    """Cases opened and closed at once, a million times: the heap stays small."""
    q = DueQueue()
    for n in range(100_000):
        q.set(f"k{n}", 1e9 + n)
        q.set(f"k{n}", math.inf)
    assert len(q) == 0
    assert len(q._heap) <= 64


def test_matches_a_reference_under_random_operations() -> None:
    rng = random.Random(7)
    q, ref = DueQueue(), {}
    clock = 0.0
    for _ in range(20_000):
        key = f"k{rng.randrange(300)}"
        if rng.random() < 0.8:
            due = math.inf if rng.random() < 0.3 else clock + rng.uniform(0, 100)
            q.set(key, due)
            if math.isfinite(due):
                ref[key] = due
            else:
                ref.pop(key, None)
        else:
            clock += rng.uniform(0, 20)
            expected = sorted((d, k) for k, d in ref.items() if d < clock)
            assert q.pop_before(clock) == [k for _, k in expected]
            for _, k in expected:
                del ref[k]
        assert len(q) == len(ref)
