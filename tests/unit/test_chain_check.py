"""The chain check of an admitted batch: what each verdict does to admission's answer."""

from __future__ import annotations

import hashlib

from jianguan.domain.chain_heads import EMPTY, Head
from jianguan.ingest.admission import DUPLICATE, INVALID, UNAVAILABLE, Link, Rejection
from jianguan.ingest.chain_check import CHAIN_FORK, CHAIN_GAP, check, new_heads


def h(seq: int, stream: str = "") -> bytes:
    return hashlib.sha256(f"{stream}:{seq}".encode()).digest()


def links(first: int, last: int, stream: str = "", start: int = 0) -> dict[int, Link]:
    """Items ``first``..``last`` of chain (chat, stream), at positions from ``start``."""
    return {
        start + k: Link(
            "chat", stream, seq, h(seq - 1, stream) if seq > 1 else b"", f"{stream}e{seq}"
        )
        for k, seq in enumerate(range(first, last + 1))
    }


def hash_of(all_links: dict[int, Link]):  # type: ignore[no-untyped-def]
    return lambda i: h(all_links[i].sequence, all_links[i].stream_id)


def refusal(i: int, status: int, all_links: dict[int, Link]) -> Rejection:
    return Rejection(i, all_links[i].event_id, status, "", "by admission")


def test_a_clean_run_changes_no_answer_and_takes_every_item() -> None:
    batch = links(1, 3)
    checked = check(batch, {}, lambda c: EMPTY, hash_of(batch))
    assert checked.answers == {}
    assert checked.taken == {("chat", ""): [0, 1, 2]}
    assert new_heads(checked.taken, {}, batch, hash_of(batch)) == {
        ("chat", ""): Head(3, h(3), "e3")
    }


def test_an_item_refused_for_its_content_keeps_its_answer_and_the_chain_goes_on() -> None:
    batch = links(1, 3)
    refused = {1: refusal(1, INVALID, batch)}
    checked = check(batch, refused, lambda c: EMPTY, hash_of(batch))
    assert checked.answers == {}
    assert checked.taken == {("chat", ""): [0, 1, 2]}


def test_a_resend_answers_duplicate_and_keeps_the_ids() -> None:
    batch = links(1, 3)
    checked = check(batch, {}, lambda c: Head(3, h(3), "e3"), hash_of(batch))
    assert {i: a.status for i, a in checked.answers.items()} == {
        0: DUPLICATE,
        1: DUPLICATE,
        2: DUPLICATE,
    }
    assert checked.forget == set()  # they are stored
    assert checked.taken == {}


def test_a_gap_refuses_accepted_items_and_forgets_their_ids() -> None:
    batch = links(5, 6)
    refused = {1: refusal(1, DUPLICATE, batch)}  # a duplicate id: the chain's answer wins
    checked = check(batch, refused, lambda c: Head(3, h(3), "e3"), hash_of(batch))
    assert {i: a.status for i, a in checked.answers.items()} == {0: CHAIN_GAP, 1: CHAIN_GAP}
    assert checked.forget == {0}  # the duplicate's id stays: it is stored
    assert checked.answers[0].field_path == "events[0].envelope.sequence"


def test_a_fork_keeps_a_content_refusal() -> None:
    batch = links(1, 2)
    refused = {1: refusal(1, INVALID, batch)}
    checked = check(batch, refused, lambda c: Head(9, h(9), "e9"), hash_of(batch))
    assert {i: a.status for i, a in checked.answers.items()} == {0: CHAIN_FORK}
    assert checked.forget == {0}


def test_after_an_unconfirmed_item_the_chain_waits_and_other_chains_go_on() -> None:
    batch = {**links(1, 4), **links(1, 2, stream="pod-2", start=4)}
    refused = {1: refusal(1, UNAVAILABLE, batch)}
    checked = check(batch, refused, lambda c: EMPTY, hash_of(batch))
    assert {i: a.status for i, a in checked.answers.items()} == {2: UNAVAILABLE, 3: UNAVAILABLE}
    assert "follows sequence 2 of its chain" in checked.answers[2].reason
    assert checked.forget == {2, 3}
    assert checked.taken == {("chat", ""): [0], ("chat", "pod-2"): [4, 5]}


def test_a_head_moves_only_to_what_the_event_log_confirmed() -> None:
    batch = links(1, 4)
    checked = check(batch, {}, lambda c: EMPTY, hash_of(batch))
    final = {2: refusal(2, UNAVAILABLE, batch), 3: refusal(3, UNAVAILABLE, batch)}
    heads = new_heads(checked.taken, final, batch, hash_of(batch))
    assert heads == {("chat", ""): Head(2, h(2), "e2")}
    nothing = new_heads(checked.taken, {0: refusal(0, UNAVAILABLE, batch)}, batch, hash_of(batch))
    assert nothing == {}
