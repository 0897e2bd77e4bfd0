"""An EventBatch record's events, each with its body kind: one interface, two implementations.

``ReferenceEvents`` decodes with protobuf; ``NativeEvents`` slices the record with the native
scanner (``contracts.wire``), never decoding an event, and hands a record that is not plainly
encoded to the reference. A caller asks ``batch_events()`` once and makes one call per record;
the parity tests run every implementation over the same records (``tests/unit/test_wire.py``).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Protocol

from jianguan.contracts import pb, wire

if TYPE_CHECKING:
    from jianguan.contracts._wire import Schema

# (batch id, [(the body's kind code, 0 when there is none; the event's encoding)])
Events = tuple[str, list[tuple[int, bytes]]]


class BatchEvents(Protocol):
    def events(self, raw: bytes) -> Events:
        """The record's events in order; raises DecodeError when ``raw`` is no EventBatch."""


class ReferenceEvents:
    def events(self, raw: bytes) -> Events:
        batch = pb.EventBatch.FromString(raw)
        return batch.batch_id, [
            (pb.BODY_KINDS.get(ev.WhichOneof("body") or "", 0), ev.SerializeToString())
            for ev in batch.events
        ]


class NativeEvents:
    def __init__(self, scanner: Schema, reference: ReferenceEvents) -> None:
        self._scan = scanner.events
        self._reference = reference

    def events(self, raw: bytes) -> Events:
        scanned = self._scan(raw)
        return self._reference.events(raw) if scanned is None else scanned


@functools.cache
def batch_events() -> BatchEvents:
    """The native implementation when the scanner is built, else the reference."""
    scanner = wire.scanner()
    return ReferenceEvents() if scanner is None else NativeEvents(scanner, ReferenceEvents())
