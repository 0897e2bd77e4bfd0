"""The ProduceID ledger marks an id once two distinct outputs named it, in any order, fed any
number of times."""

from __future__ import annotations

import itertools

from jianguan.domain.produce_ids import REUSED, ledger_key, take

ROWS = [
    ("acme", "pid-1", "out-a"),
    ("acme", "pid-1", "out-b"),
    ("acme", "pid-2", "out-c"),
    ("other", "pid-1", "out-d"),  # the same id at another provider is another id
]


def test_an_id_naming_two_outputs_is_marked_whatever_the_order() -> None:
    for order in itertools.permutations(ROWS):
        ledger: dict[bytes, bytes] = {}
        marked: set[tuple[str, str]] = set()
        for row in order:  # one row per round
            marked |= take(ledger, [row])
        assert marked == {("acme", "pid-1")}
        assert ledger[ledger_key("acme", "pid-1")] == REUSED
        assert ledger[ledger_key("acme", "pid-2")] == b"out-c"
        assert ledger[ledger_key("other", "pid-1")] == b"out-d"


def test_a_row_taken_again_changes_nothing() -> None:
    ledger: dict[bytes, bytes] = {}
    assert take(ledger, [ROWS[0], ROWS[0]]) == set()  # one output, read twice
    assert take(ledger, ROWS[:1]) == set()
    assert ledger == {ledger_key("acme", "pid-1"): b"out-a"}


def test_a_marked_id_is_reported_again_with_each_further_output() -> None:
    ledger: dict[bytes, bytes] = {}
    assert take(ledger, ROWS[:2]) == {("acme", "pid-1")}
    assert take(ledger, [("acme", "pid-1", "out-e")]) == {("acme", "pid-1")}
    assert take(ledger, [("acme", "pid-2", "out-c")]) == set()
