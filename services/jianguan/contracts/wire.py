"""The native pass over EventBatch records (``jianguan.contracts._wire``, scanning in
``wire_scan.c``), with its tables built here from the contract's descriptors and field rules, so
the contract stays the one definition.

Reading protobuf fields from Python costs ~0.2 µs per scalar and ~1.5 µs per sub-message; an
event has dozens. The native scanner walks the encoded bytes once instead. It is a fast path, and
the Python code stays the reference: the scanner may send a valid event to the Python validator
(``suspect``), never pass an invalid one, and whatever is not plainly encoded (unknown fields,
repeated singular fields, two bodies, …) goes to the Python path whole. Tests hold the two to
the same answers.

``build`` and ``scanner`` answer None when the extension is not built; callers then use the
Python path only.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from jianguan.contracts import pb

# The numbers shared with wire_scan.c (generated into its header from there).
from jianguan.contracts.wire_constants import (
    C_NONE,
    F_COUNTRY,
    F_EXACT,
    F_IDENT,
    F_MAX,
    F_NANOS,
    F_PI,
    F_REPEATED,
    F_REQUIRED,
    F_UNIT,
    R_BODY,
    R_EVENT_ID,
    R_NANOS,
    R_PREV_HASH,
    R_PROVIDER_ID,
    R_SCHEMA_VERSION,
    R_SECONDS,
    R_SEQUENCE,
    R_SERVICE_ID,
    R_STREAM_ID,
    T_BOOL,
    T_BYTES,
    T_ENUM,
    T_FLOAT,
    T_INT32,
    T_INT64,
    T_MESSAGE,
    T_STRING,
    T_UINT32,
    T_UINT64,
)
from jianguan_sdk.validation import BODY_BOUNDS, TIMESTAMP_END_S

if TYPE_CHECKING:
    from jianguan.contracts._wire import Schema

log = logging.getLogger(__name__)

_wire: ModuleType | None
try:
    from jianguan.contracts import _wire
except ImportError:  # pragma: no cover - the build always compiles it; source checkouts may not
    _wire = None
    log.warning("the native EventBatch scanner is not built; ingest and store use Python only")

_TYPES = {
    FieldDescriptor.TYPE_STRING: T_STRING,
    FieldDescriptor.TYPE_BYTES: T_BYTES,
    FieldDescriptor.TYPE_ENUM: T_ENUM,
    FieldDescriptor.TYPE_BOOL: T_BOOL,
    FieldDescriptor.TYPE_UINT64: T_UINT64,
    FieldDescriptor.TYPE_UINT32: T_UINT32,
    FieldDescriptor.TYPE_INT64: T_INT64,
    FieldDescriptor.TYPE_INT32: T_INT32,
    FieldDescriptor.TYPE_FLOAT: T_FLOAT,
    FieldDescriptor.TYPE_MESSAGE: T_MESSAGE,
}
# The envelope values the scanner reports and judges (timestamps, hash-chain shape, version).
_ROLES = {
    "envelope.event_id": R_EVENT_ID,
    "envelope.provider_id": R_PROVIDER_ID,
    "envelope.service_id": R_SERVICE_ID,
    "envelope.stream_id": R_STREAM_ID,
    "envelope.sequence": R_SEQUENCE,
    "envelope.prev_hash": R_PREV_HASH,
    "envelope.schema_version": R_SCHEMA_VERSION,
    "envelope.occurred_at.seconds": R_SECONDS,
    "envelope.occurred_at.nanos": R_NANOS,
}
_TIMESTAMP = "google.protobuf.Timestamp"
_BOUND_FLAGS = {"unit": F_UNIT, "country": F_COUNTRY}
BODY_CODES: dict[str, int] = dict(pb.BODY_KINDS)


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    """Which fields a Schema maps to column slots, for a visitor of the slots (the event store's
    native encoder): field path (from the event, e.g. ``envelope.event_id``,
    ``generation.implicit_label.label``) → (slot index, conversion), of ``columns`` slots."""

    fields: Mapping[str, tuple[int, int]]
    columns: int


class _Builder:
    def __init__(self, plan: ColumnPlan | None) -> None:
        self.messages: list[list[tuple[int, tuple[Any, ...]]]] = []
        self.plan = plan
        self.bounds = {f"{b.kind}.{b.field}": b for b in BODY_BOUNDS}
        self.used: set[str] = set()

    def message(self, descriptor: Descriptor, path: str) -> int:
        index = len(self.messages)
        self.messages.append([])
        fields = [(f.number, self.field(f, _join(path, f.name))) for f in descriptor.fields]
        self.messages[index] = fields
        return index

    def field(self, f: FieldDescriptor, path: str) -> tuple[Any, ...]:
        if f.type not in _TYPES:
            raise ValueError(f"{path}: field type {f.type} is not handled by the native scanner")
        rules = f.GetOptions().Extensions[pb.options_pb2.rules]
        flags = 0
        if rules.required:
            flags |= F_REQUIRED
        if rules.identifier:
            flags |= F_IDENT
        if rules.free_text or rules.pseudonymous_ref or rules.identifier:
            flags |= F_PI
        if f.is_repeated:
            flags |= F_REPEATED
        if rules.exact_len:
            # of a non-zero length, so never empty: an absent field (empty, nothing on the wire
            # to scan) is as wrong as one of another length
            flags |= F_EXACT | F_REQUIRED
        in_timestamp = f.containing_type is not None and f.containing_type.full_name == _TIMESTAMP
        if in_timestamp and f.name == "nanos":
            flags |= F_NANOS
        max_value = 0
        if rules.max:
            flags, max_value = flags | F_MAX, rules.max
        elif in_timestamp and f.name == "seconds":
            # compared unsigned, so a negative number of seconds is over the bound too
            flags, max_value = flags | F_MAX, TIMESTAMP_END_S - 1
        bound = self.bounds.get(path)
        if bound is not None:
            flags |= _BOUND_FLAGS[bound.test]
        enum_ok = b""
        if f.type == FieldDescriptor.TYPE_ENUM:
            assert f.enum_type is not None
            allowed = {v.number for v in f.enum_type.values}
            if rules.required or f.is_repeated:
                allowed.discard(0)
            enum_ok = bytes(1 if n in allowed else 0 for n in range(256))
        sub, role, kind = -1, _ROLES.get(path, 0), 0
        if f.type == FieldDescriptor.TYPE_MESSAGE:
            assert f.message_type is not None
            sub = self.message(f.message_type, path)
            if f.containing_oneof is not None and f.containing_oneof.name == "body":
                role, kind = R_BODY, BODY_CODES[f.name]
        column, conv = -1, C_NONE
        if self.plan is not None and path in self.plan.fields:
            column, conv = self.plan.fields[path]
            self.used.add(path)
        return (
            _TYPES[f.type],
            flags,
            rules.max_len,
            max_value,
            enum_ok,
            sub,
            role,
            kind,
            column,
            conv,
        )


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def build(plan: ColumnPlan | None = None) -> Schema | None:
    """A native Schema for jianguan.v1.Event (None when the extension is not built)."""
    builder = _Builder(plan)
    builder.message(pb.Event.DESCRIPTOR, "")
    if plan is not None and builder.used != set(plan.fields):
        raise ValueError(
            f"no such fields in the contract: {sorted(set(plan.fields) - builder.used)}"
        )
    if _wire is None:
        return None
    versions = sum(1 << v for v in pb.SUPPORTED_SCHEMA_VERSIONS if v < 64)
    schema: Schema = _wire.Schema(builder.messages, versions, 0 if plan is None else plan.columns)
    return schema


@functools.cache
def scanner() -> Schema | None:
    """The validating scanner (no columns), built once per process; None when not built."""
    return build()


def outline(raw: bytes) -> tuple[str, int] | None:
    """(batch id, number of events) from the top level of an EventBatch alone; None when it is
    malformed or the extension is not built."""
    return None if _wire is None else _wire.outline(raw)
