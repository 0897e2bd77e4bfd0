"""The chain check of one admitted batch: which items continue their chains, and what becomes of
those that do not. Pure: the heads and the items' hashes are given.

Runs after admission, on every item admission judged and could place (``Admitted.links``), chain
by chain in batch order (``domain.chain_heads.judge``):
- an item that continues its chain keeps admission's answer (accepted, or refused for its content
  or as a duplicate id: the chain moves past it all the same, the provider sealed it);
- a resend of what the chain holds is answered DUPLICATE (stored once, before);
- a gap or a fork is answered CHAIN_GAP or CHAIN_FORK, unless admission refused the item for its
  content (that answer stays: it says more);
- after an item admission left for later (UNAVAILABLE: its record's fate unknown), the chain's
  later items wait too (UNAVAILABLE): they cannot be judged before it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from jianguan.contracts import pb
from jianguan.domain.chain_heads import FORK, GAP, NEXT, REPEAT, Head, Item, judge
from jianguan.ingest.admission import DUPLICATE, RATE_LIMITED, UNAVAILABLE, Link, Rejection

CHAIN_GAP = pb.ingest_pb2.ITEM_STATUS_CHAIN_GAP
CHAIN_FORK = pb.ingest_pb2.ITEM_STATUS_CHAIN_FORK
_STATUS = {GAP: CHAIN_GAP, FORK: CHAIN_FORK}
_LATER = frozenset({UNAVAILABLE, RATE_LIMITED})
Chain = tuple[str, str]  # (service_id, stream_id)


@dataclass(slots=True)
class Checked:
    """``answers``: the items whose answer changes, by index (an accepted item among them leaves
    its group); ``forget``: those of them whose event id is to be released (not stored);
    ``taken``: per chain, the items it takes, in order (its head moves to the last of them that
    is stored)."""

    answers: dict[int, Rejection] = field(default_factory=dict)
    forget: set[int] = field(default_factory=set)
    taken: dict[Chain, list[int]] = field(default_factory=dict)


def chains_of(links: Mapping[int, Link]) -> dict[Chain, list[int]]:
    """The items of each chain, in batch order."""
    out: dict[Chain, list[int]] = {}
    for i in sorted(links):
        link = links[i]
        out.setdefault((link.service_id, link.stream_id), []).append(i)
    return out


def check(
    links: Mapping[int, Link],
    refused: Mapping[int, Rejection],
    head_of: Callable[[Chain], Head],
    hash_of: Callable[[int], bytes],
    chains: Mapping[Chain, list[int]] | None = None,
) -> Checked:
    """``refused``: admission's answers by index (an item without one was accepted);
    ``chains``: ``chains_of(links)`` when the caller has it already."""
    out = Checked()
    for chain, indices in (chains_of(links) if chains is None else chains).items():
        if _continues(links, indices, refused, head_of(chain)):
            out.taken[chain] = indices  # the common case, without judging item by item
            continue
        items: list[Item] = []
        waiting: Rejection | None = None
        for i in indices:
            answer = refused.get(i)
            if waiting is not None:
                if answer is None:
                    out.answers[i] = _waits(i, links[i], waiting, links)
                    out.forget.add(i)
                continue
            if answer is not None and answer.status in _LATER:
                waiting = answer
                continue
            link = links[i]
            items.append(Item(i, link.sequence, link.prev_hash, link.event_id))
        _, verdicts = judge(head_of(chain), items, hash_of)
        taken = []
        for v in verdicts:
            answer = refused.get(v.index)
            link = links[v.index]
            if v.kind == NEXT:
                taken.append(v.index)
            elif v.kind == REPEAT:
                if answer is None:
                    out.answers[v.index] = Rejection(
                        v.index,
                        link.event_id,
                        DUPLICATE,
                        f"events[{v.index}].envelope.sequence",
                        f"its chain holds it already (sequence {link.sequence}); it is stored once",
                    )
            elif answer is None or answer.status == DUPLICATE:
                out.answers[v.index] = Rejection(
                    v.index,
                    link.event_id,
                    _STATUS[v.kind],
                    f"events[{v.index}].envelope.sequence",
                    v.reason,
                )
                if answer is None:
                    out.forget.add(v.index)
        if taken:
            out.taken[chain] = taken
    return out


def _continues(
    links: Mapping[int, Link], indices: list[int], refused: Mapping[int, Rejection], head: Head
) -> bool:
    """The items continue the chain one by one from its head, and admission refused none of
    them: every verdict would be NEXT."""
    first = links[indices[0]]
    if first.sequence != head.sequence + 1 or first.prev_hash != head.hash:
        return False
    expected = first.sequence
    for i in indices:
        if links[i].sequence != expected or i in refused:
            return False
        expected += 1
    return True


def _waits(i: int, link: Link, first: Rejection, links: Mapping[int, Link]) -> Rejection:
    before = links[first.index]
    return Rejection(
        i,
        link.event_id,
        UNAVAILABLE,
        "",
        f"follows sequence {before.sequence} of its chain, which is not taken yet; retry",
    )


def new_heads(
    taken: Mapping[Chain, list[int]],
    final: Mapping[int, Rejection],
    links: Mapping[int, Link],
    hash_of: Callable[[int], bytes],
) -> dict[Chain, Head]:
    """After the batch was produced: each chain's head moves to the last item it took before the
    first the event log did not confirm (``final``: every item's answer but ACCEPTED)."""
    heads = {}
    for chain, indices in taken.items():
        last = None
        for i in indices:
            answer = final.get(i)
            if answer is not None and answer.status in _LATER:
                break
            last = i
        if last is not None:
            heads[chain] = Head(links[last].sequence, hash_of(last), links[last].event_id)
    return heads
