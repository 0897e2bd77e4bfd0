"""What a sink sets aside: a record, or one event of a record, that the store cannot keep.

A sink never retries a record it can never write: it sets it aside here, with the reason, and
carries on with the rest (the ``quarantine`` table, migration 0012). Pure: rows for the table, no
I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Why, in a word (a bounded metric label); the reason says it for a person.
UNDECODABLE = "undecodable"  # not the message the topic carries
UNATTRIBUTED = "unattributed"  # no header naming who wrote it
BAD_HEADER = "bad_header"  # a header the platform sets is not what it must be
OUT_OF_RANGE = "out_of_range"  # a value does not fit its column
REFUSED = "refused"  # the store refused the record's rows (found by splitting the insert)
GIVEN_UP = "given_up"  # a consumer failed on it every time it tried (a dead letter)
CAUSES = (UNDECODABLE, UNATTRIBUTED, BAD_HEADER, OUT_OF_RANGE, REFUSED, GIVEN_UP)

COLUMNS: tuple[str, ...] = (
    "topic", "kafka_partition", "kafka_offset", "item", "provider_id", "event_id", "cause",
    "reason", "payload", "quarantined_at",
)  # fmt: skip
MAX_REASON_CHARS = 1000


@dataclass(frozen=True, slots=True)
class SetAside:
    """``item`` is 0 for a whole record, else the event's position in its record plus one."""

    partition: int
    offset: int
    item: int
    provider_id: str
    event_id: str
    cause: str
    reason: str
    payload: bytes


def columns(topic: str, items: Sequence[SetAside], now_s: int) -> list[list[Any]]:
    """Column-major rows of ``quarantine`` for ``items`` read from ``topic``."""
    return [
        [topic] * len(items),
        [i.partition for i in items],
        [i.offset for i in items],
        [i.item for i in items],
        [i.provider_id for i in items],
        [i.event_id for i in items],
        [i.cause for i in items],
        [i.reason[:MAX_REASON_CHARS] for i in items],
        [i.payload for i in items],
        [now_s] * len(items),
    ]
