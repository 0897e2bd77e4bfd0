"""A service's registrations over time: the deadline in force at each instant, in any order."""

from __future__ import annotations

import itertools
import math

from jianguan.domain.registrations import Registration, add, in_force

R1: Registration = (100.0, "r1", 15.0, False)
R2: Registration = (200.0, "r2", 0.0, False)  # re-registered without a published deadline
R3: Registration = (300.0, "r3", 7.0, True)


def test_the_deadline_in_force_is_the_latest_registration_at_or_before_the_instant() -> None:
    history: list[Registration] = []
    for r in (R1, R2, R3):
        add(history, r)
    assert in_force(history, 99) is None
    assert in_force(history, 100) == R1
    assert in_force(history, 250) == R2
    assert in_force(history, 1e9) == R3


def test_any_arrival_order_gives_the_same_history() -> None:
    want: list[Registration] = [R1, R2, R3]
    for order in itertools.permutations(want):
        history: list[Registration] = []
        for r in order:
            add(history, r)
        assert history == want


def test_an_insertion_names_the_span_it_now_governs_and_a_repeat_changes_nothing() -> None:
    history: list[Registration] = []
    assert add(history, R3) == (300.0, math.inf)
    assert add(history, R1) == (100.0, 300.0)
    assert add(history, R2) == (200.0, 300.0)
    assert add(history, R2) is None
    assert history == [R1, R2, R3]
