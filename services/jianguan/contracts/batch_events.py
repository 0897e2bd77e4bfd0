"""An EventBatch record's events of some body kinds, decoded: one interface, two implementations.

``ReferenceEvents`` decodes the whole record with protobuf; ``NativeEvents`` slices it with the
native scanner (``contracts.wire``) and decodes only the events of the kinds asked for, handing a
record that is not plainly encoded to the reference. A caller asks ``batch_events()`` once and
makes one call per record; the parity tests run every implementation over the same records
(``tests/unit/test_wire.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import TYPE_CHECKING, Protocol

from jianguan.contracts import pb, wire

if TYPE_CHECKING:
    from jianguan.contracts._wire import Schema


def kind_of(event: pb.Event) -> int:
    """The body's kind code as stored (the body field's number; 0 when there is none)."""
    return pb.BODY_KINDS.get(event.WhichOneof("body") or "", 0)


class BatchEvents(Protocol):
    def of_kinds(self, raw: bytes, kinds: Collection[int]) -> list[pb.Event]:
        """The record's events whose kind code is in ``kinds``, in order; raises DecodeError
        when ``raw`` is no EventBatch."""


class ReferenceEvents:
    def of_kinds(self, raw: bytes, kinds: Collection[int]) -> list[pb.Event]:
        return [ev for ev in pb.EventBatch.FromString(raw).events if kind_of(ev) in kinds]


class NativeEvents:
    def __init__(self, scanner: Schema, reference: ReferenceEvents) -> None:
        self._scan = scanner.events
        self._reference = reference

    def of_kinds(self, raw: bytes, kinds: Collection[int]) -> list[pb.Event]:
        scanned = self._scan(raw)
        if scanned is None:
            return self._reference.of_kinds(raw, kinds)
        return [pb.Event.FromString(ev) for kind, ev in scanned[1] if kind in kinds]


@functools.cache
def batch_events() -> BatchEvents:
    """The native implementation when the scanner is built, else the reference."""
    scanner = wire.scanner()
    return ReferenceEvents() if scanner is None else NativeEvents(scanner, ReferenceEvents())
