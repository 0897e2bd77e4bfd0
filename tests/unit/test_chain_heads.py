"""The ingest judge of chains: next, repeat, gap and fork, per item, against the chain's head."""

from __future__ import annotations

import hashlib

from jianguan.domain.chain_heads import EMPTY, FORK, GAP, NEXT, REPEAT, Head, Item, judge


def h(seq: int, variant: str = "") -> bytes:
    return hashlib.sha256(f"event-{seq}{variant}".encode()).digest()


def items(first: int, last: int, prev: bytes | None = None, variant: str = "") -> list[Item]:
    """Items ``first``..``last``, each linked to the one before (the first to ``prev``)."""
    out = []
    for seq in range(first, last + 1):
        link = (h(first - 1) if first > 1 else b"") if prev is None else prev
        out.append(Item(len(out), seq, link if seq == first else h(seq - 1, variant), f"e{seq}"))
    return out


class Hashes:
    """hash_of by position, counting what was asked."""

    def __init__(self, batch: list[Item], variant: str = "") -> None:
        self.batch, self.variant, self.asked = batch, variant, []

    def __call__(self, index: int) -> bytes:
        self.asked.append(index)
        return h(self.batch[index].sequence, self.variant)


def kinds(verdicts: list) -> list[str]:
    return [v.kind for v in verdicts]


def test_a_new_chain_takes_a_run_from_one_and_hashes_only_its_last() -> None:
    batch = items(1, 4)
    hashes = Hashes(batch)
    head, verdicts = judge(EMPTY, batch, hashes)
    assert kinds(verdicts) == [NEXT] * 4
    assert head == Head(4, h(4), "e4")
    assert hashes.asked == [3]


def test_a_run_continues_the_head_by_its_hash() -> None:
    batch = items(6, 8)
    head, verdicts = judge(Head(5, h(5), "e5"), batch, Hashes(batch))
    assert kinds(verdicts) == [NEXT] * 3
    assert head.sequence == 8


def test_the_next_sequence_with_another_prev_hash_is_a_fork_and_so_is_what_follows() -> None:
    batch = items(6, 8, prev=h(5, "other"))
    head, verdicts = judge(Head(5, h(5), "e5"), batch, Hashes(batch))
    assert kinds(verdicts) == [FORK] * 3
    assert "is not the hash of event 'e5' (sequence 5)" in verdicts[0].reason
    assert "own stream_id" in verdicts[0].reason
    assert verdicts[1].reason.startswith("follows sequence 6 (event 'e6'), refused:")
    assert head == Head(5, h(5), "e5")


def test_a_skipped_sequence_is_a_gap_naming_what_never_arrived() -> None:
    batch = items(8, 9)
    head, verdicts = judge(Head(5, h(5), "e5"), batch, Hashes(batch))
    assert kinds(verdicts) == [GAP, GAP]
    assert "skips sequences 6..7: the chain expects 6 next" in verdicts[0].reason
    assert head.sequence == 5


def test_a_gap_inside_a_run_keeps_what_came_before() -> None:
    batch = [*items(6, 7), Item(2, 9, h(8), "e9")]
    hashes = Hashes(batch)
    head, verdicts = judge(Head(5, h(5), "e5"), batch, hashes)
    assert kinds(verdicts) == [NEXT, NEXT, GAP]
    assert "skips sequence 8" in verdicts[2].reason
    assert head == Head(7, h(7), "e7")


def test_a_resend_that_leads_to_the_head_is_a_repeat_and_the_rest_continues() -> None:
    batch = items(3, 8)  # 3..5 were taken before, their answer lost
    hashes = Hashes(batch)
    head, verdicts = judge(Head(5, h(5), "e5"), batch, hashes)
    assert kinds(verdicts) == [REPEAT] * 3 + [NEXT] * 3
    assert head == Head(8, h(8), "e8")
    assert hashes.asked == [2, 5]  # where the resend meets the head, and the last taken


def test_a_resend_that_differs_at_the_head_is_a_fork() -> None:
    batch = items(4, 6, variant="x")
    hashes = Hashes(batch, variant="x")  # every item hashes differently from the stored ones
    head, verdicts = judge(Head(5, h(5), "e5"), batch, hashes)
    assert kinds(verdicts) == [FORK] * 3
    assert "sequence 5 of the chain is event 'e5', and event 'e5' differs" in verdicts[0].reason
    assert head.sequence == 5


def test_a_chain_started_again_from_one_is_a_fork_that_says_where_the_chain_stands() -> None:
    batch = items(1, 3)  # a reporter that lost its disk
    head, verdicts = judge(Head(5000, h(5000), "e5000"), batch, Hashes(batch))
    assert kinds(verdicts) == [FORK] * 3
    assert "sequence 1 is before the chain's last (5000)" in verdicts[0].reason
    assert "GetChainHeads" in verdicts[0].reason
    assert head.sequence == 5000


def test_a_first_event_that_names_a_previous_one_is_a_fork() -> None:
    batch = [Item(0, 1, h(0), "e1")]
    _, verdicts = judge(EMPTY, batch, Hashes(batch))
    assert verdicts[0].kind == FORK
    assert verdicts[0].reason == "sequence 1 must have an empty prev_hash"


def test_items_out_of_order_are_judged_as_they_come() -> None:
    batch = [Item(0, 7, h(6), "e7"), Item(1, 6, h(5), "e6")]
    _, verdicts = judge(Head(5, h(5), "e5"), batch, Hashes(batch))
    assert kinds(verdicts) == [GAP, GAP]
