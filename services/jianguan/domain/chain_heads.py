"""Where each chain stands, and whether the items of a batch continue it. Pure.

A chain is (provider, service, stream); its head is the last event taken into it (sequence,
hash, event id). The items of one chain in a received batch are judged in batch order against
the head:

- **next**: the sequence the chain expects (head + 1) and, for the first of a run, the head's
  hash as ``prev_hash``: it continues the chain (the head moves to it);
- **repeat**: already in the chain (a resend after a lost answer), proven by the hash: the item
  at the head's sequence hashes to the head's hash, and earlier items lead to it without a gap;
- **gap**: a sequence beyond the next: the events between never arrived;
- **fork**: a sequence the chain already holds, but not proven the same; or the next sequence
  with a ``prev_hash`` that is not the head's hash; or an item before the head that the batch
  does not lead up to the head from.

Once an item of a chain is refused, the chain's later items in the batch are refused the same
way (they continue a refused item). The links between the items of one run are the provider's
claims: the gateway checks the sequence of every item and the hash where the run meets the
chain; ``verify_chain`` checks every link of the stored chain.

``hash_of(index)`` gives an item's hash (SHA-256 of its canonical encoding); it is asked only for
the items where a run meets the head and for the last item taken.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

NEXT = "next"
REPEAT = "repeat"
GAP = "gap"
FORK = "fork"


@dataclass(frozen=True, slots=True)
class Head:
    sequence: int
    hash: bytes
    event_id: str


EMPTY = Head(0, b"", "")


@dataclass(frozen=True, slots=True)
class Item:
    """One item of a received batch, as its chain sees it; ``index`` is its position."""

    index: int
    sequence: int
    prev_hash: bytes
    event_id: str


@dataclass(frozen=True, slots=True)
class Verdict:
    index: int
    kind: str
    reason: str = ""


def judge(
    head: Head, items: Sequence[Item], hash_of: Callable[[int], bytes]
) -> tuple[Head, list[Verdict]]:
    """The verdict on each of one chain's ``items`` (in batch order) and the head after them."""
    verdicts: list[Verdict] = []
    i, n = 0, len(items)
    linked = False  # the previous item was taken into the chain: the next links to it
    last_taken: Item | None = None
    while i < n:
        item = items[i]
        expected = head.sequence + 1 if last_taken is None else last_taken.sequence + 1
        if item.sequence == expected:
            if not linked and item.prev_hash != head.hash:
                return _refuse_rest(head, last_taken, hash_of, verdicts, items[i:], FORK,
                                    _broken_link(head, item))  # fmt: skip
            verdicts.append(Verdict(item.index, NEXT))
            last_taken, linked = item, True
            i += 1
            continue
        if item.sequence > expected:
            reason = (
                f"sequence {item.sequence} skips {_span(expected, item.sequence - 1)}: the chain"
                f" expects {expected} next (the events before never arrived)"
            )
            return _refuse_rest(head, last_taken, hash_of, verdicts, items[i:], GAP, reason)
        # At or before the head: a resend, proven by the hash where it meets the head.
        current = _moved(head, last_taken, hash_of)
        meet = _run_to(items, i, current.sequence)
        if meet is not None and hash_of(items[meet].index) == current.hash:
            verdicts.extend(Verdict(items[k].index, REPEAT) for k in range(i, meet + 1))
            head, last_taken, linked = current, None, False
            i = meet + 1
            continue
        if meet is None:
            reason = (
                f"sequence {item.sequence} is before the chain's last ({current.sequence}) and"
                " this batch does not lead to it: the reporter lost its state or another"
                " process reports into this chain (ask GetChainHeads where the chain stands;"
                f" a resend runs from its first unanswered event through {current.sequence})"
            )
        else:
            reason = (
                f"sequence {current.sequence} of the chain is event {current.event_id!r}, and"
                f" event {items[meet].event_id!r} differs from it: another process reports"
                " into this chain (give each process its own stream_id), or the reporter lost"
                " its state (ask GetChainHeads where the chain stands)"
            )
        return _refuse_rest(head, last_taken, hash_of, verdicts, items[i:], FORK, reason)
    return _moved(head, last_taken, hash_of), verdicts


def _moved(head: Head, last_taken: Item | None, hash_of: Callable[[int], bytes]) -> Head:
    if last_taken is None:
        return head
    return Head(last_taken.sequence, hash_of(last_taken.index), last_taken.event_id)


def _run_to(items: Sequence[Item], start: int, target: int) -> int | None:
    """The position of the item with sequence ``target`` when the items from ``start`` count up
    to it one by one; None otherwise."""
    want = items[start].sequence
    for k in range(start, len(items)):
        if items[k].sequence != want:
            return None
        if want == target:
            return k
        want += 1
    return None


def _refuse_rest(
    head: Head,
    last_taken: Item | None,
    hash_of: Callable[[int], bytes],
    verdicts: list[Verdict],
    rest: Sequence[Item],
    kind: str,
    reason: str,
) -> tuple[Head, list[Verdict]]:
    first = rest[0]
    verdicts.append(Verdict(first.index, kind, reason))
    after = f"follows sequence {first.sequence} (event {first.event_id!r}), refused: {reason}"
    verdicts.extend(Verdict(item.index, kind, after) for item in rest[1:])
    return _moved(head, last_taken, hash_of), verdicts


def _span(first: int, last: int) -> str:
    return f"sequence {first}" if first == last else f"sequences {first}..{last}"


def _broken_link(head: Head, item: Item) -> str:
    if head.sequence == 0:
        return "sequence 1 must have an empty prev_hash"
    return (
        f"prev_hash is not the hash of event {head.event_id!r} (sequence {head.sequence}), the"
        " chain's last: another process reports into this chain (give each process its own"
        " stream_id), or the reporter lost its state (ask GetChainHeads where the chain stands)"
    )
