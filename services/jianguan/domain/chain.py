"""Verification of a service's hash chain (tamper evidence). Pure.

Each event names its sequence number and the SHA-256 of the previous event of its service. Given
a service's stored events in sequence order — (sequence, event id, prev_hash, own hash) — find
what breaks the chain: a missing sequence (lost or withheld telemetry), two different events
with one sequence (a fork: something was replaced), or a prev_hash that is not the hash of the
event before it (an event was altered after the fact, or the provider's chain is wrong).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

GAP = "gap"
FORK = "fork"
MISMATCH = "hash_mismatch"
BAD_START = "bad_start"


@dataclass(frozen=True, slots=True)
class ChainLink:
    sequence: int
    event_id: str
    prev_hash: bytes
    own_hash: bytes


@dataclass(frozen=True, slots=True)
class ChainBreak:
    kind: str
    sequence: int
    event_id: str
    detail: str


def verify_chain(links: Iterable[ChainLink]) -> list[ChainBreak]:
    """Breaks in one service's chain; ``links`` must be sorted by sequence."""
    breaks: list[ChainBreak] = []
    previous: ChainLink | None = None
    for link in links:
        if previous is None:
            if link.sequence == 1 and link.prev_hash:
                breaks.append(
                    ChainBreak(BAD_START, 1, link.event_id, "sequence 1 must not name a previous")
                )
            elif link.sequence > 1:
                breaks.append(
                    ChainBreak(
                        GAP, link.sequence, link.event_id,
                        f"sequences 1..{link.sequence - 1} are missing",
                    )
                )  # fmt: skip
        elif link.sequence == previous.sequence:
            breaks.append(
                ChainBreak(
                    FORK, link.sequence, link.event_id,
                    f"sequence {link.sequence} is also used by event {previous.event_id}",
                )
            )  # fmt: skip
            continue
        elif link.sequence > previous.sequence + 1:
            breaks.append(
                ChainBreak(
                    GAP, link.sequence, link.event_id,
                    f"sequences {previous.sequence + 1}..{link.sequence - 1} are missing",
                )
            )  # fmt: skip
        elif link.prev_hash != previous.own_hash:
            breaks.append(
                ChainBreak(
                    MISMATCH, link.sequence, link.event_id,
                    f"prev_hash is not the hash of event {previous.event_id}"
                    f" (sequence {previous.sequence})",
                )
            )  # fmt: skip
        previous = link
    return breaks
