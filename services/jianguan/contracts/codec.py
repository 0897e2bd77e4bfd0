"""Wire helpers for EventBatch records: building a batch from already-serialized events.

Re-encoding a batch through the message API copies every event; concatenating the serialized
events with their field tag is byte-for-byte the same encoding at a fraction of the cost.
"""

from __future__ import annotations

from collections.abc import Iterable

_TAG_BATCH_ID = b"\x0a"  # EventBatch.batch_id: field 1, length-delimited
_TAG_EVENT = b"\x12"  # EventBatch.events: field 2, length-delimited


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def encode_batch(batch_id: str, serialized_events: Iterable[bytes]) -> bytes:
    """A serialized jianguan.v1.EventBatch holding ``serialized_events`` in order."""
    parts: list[bytes] = []
    if batch_id:
        raw_id = batch_id.encode()
        parts += (_TAG_BATCH_ID, _varint(len(raw_id)), raw_id)
    for ev in serialized_events:
        parts += (_TAG_EVENT, _varint(len(ev)), ev)
    return b"".join(parts)
