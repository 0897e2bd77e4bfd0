"""Wire helpers for EventBatch records: building a batch from already-serialized events.

Re-encoding a batch through the message API copies every event; concatenating the serialized
events with their field tag is byte-for-byte the same encoding at a fraction of the cost.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

_TAG_BATCH_ID = b"\x0a"  # EventBatch.batch_id: field 1, length-delimited
_TAG_EVENT = b"\x12"  # EventBatch.events: field 2, length-delimited


def varint(n: int) -> bytes:
    """``n`` (≥ 0) as a base-128 varint, as protobuf and ClickHouse's Native format write it."""
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
        parts += (_TAG_BATCH_ID, varint(len(raw_id)), raw_id)
    for ev in serialized_events:
        parts += (_TAG_EVENT, varint(len(ev)), ev)
    return b"".join(parts)


@dataclass(slots=True)
class SplitBatch:
    """The top level of an EventBatch, read without decoding an event: its id, each event's
    encoding in order, and where (and why) the message stops being readable, if it does."""

    batch_id: str = ""
    events: list[bytes] = field(default_factory=list)
    broken_at: int | None = None
    problem: str = ""


def _read_varint(raw: bytes, pos: int) -> tuple[int, int] | None:
    value, shift = 0, 0
    while pos < len(raw) and shift < 70:
        b = raw[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
    return None


def _skip(raw: bytes, pos: int, wire_type: int, number: int) -> int | None:
    """The position after the value of field ``number`` starting at ``pos``; None when it is
    malformed or runs past the end."""
    if wire_type == 0:
        read = _read_varint(raw, pos)
        return None if read is None else read[1]
    if wire_type == 2:
        length = _read_varint(raw, pos)
        if length is None or length[0] > len(raw) - length[1]:
            return None
        return length[1] + length[0]
    if wire_type in (1, 5):
        after = pos + (8 if wire_type == 1 else 4)
        return after if after <= len(raw) else None
    if wire_type == 3:
        return _skip_group(raw, pos, number)
    return None


def _skip_group(raw: bytes, pos: int, number: int) -> int | None:
    """The position after the end of group ``number`` starting at ``pos``; None if it never
    ends or holds something malformed. Iterative: nesting costs no recursion."""
    depth = [number]
    while pos < len(raw):
        tag = _read_varint(raw, pos)
        if tag is None or tag[0] >> 3 == 0:
            return None
        (key, pos), wire_type = tag, tag[0] & 7
        if wire_type == 4:
            if depth.pop() != key >> 3:
                return None
            if not depth:
                return pos
        elif wire_type == 3:
            depth.append(key >> 3)
        else:
            skipped = _skip(raw, pos, wire_type, key >> 3)
            if skipped is None:
                return None
            pos = skipped
    return None


def split_batch(raw: bytes) -> SplitBatch:
    """What can be read of a serialized EventBatch that protobuf refuses as a whole, so that
    each event can be judged (and answered) on its own. Unknown fields are skipped."""
    out = SplitBatch()
    pos = 0
    while pos < len(raw):
        start = pos
        tag = _read_varint(raw, pos)
        if tag is None or tag[0] >> 3 == 0:
            out.broken_at, out.problem = start, "a field tag is malformed"
            return out
        (key, pos), wire_type = tag, tag[0] & 7
        number = key >> 3
        after = _skip(raw, pos, wire_type, number)
        if after is None:
            out.broken_at = start
            if wire_type == 3:
                out.problem = f"group {number} does not end"
            elif wire_type in (0, 1, 2, 5):
                out.problem = f"field {number} runs past the end"
            else:
                out.problem = f"field {number} has wire type {wire_type}"
            return out
        if wire_type == 2 and number in (1, 2):
            length = _read_varint(raw, pos)
            assert length is not None  # read by _skip already
            value = raw[length[1] : after]
            if number == 2:
                out.events.append(value)
            else:
                out.batch_id = value.decode("utf-8", "replace")
        pos = after
    return out
