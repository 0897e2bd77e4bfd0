"""Turns event-log records into event-store columns. Pure: no I/O, the ingest time is passed in.

A record is one EventBatch of one (provider, service). Its events are grouped by body kind and each
group is appended column by column (list comprehensions, and constant runs for the columns a kind
does not use), which costs a fraction of building rows one by one; row order within an insert is
irrelevant to the store. Each row keeps the event's own encoding in ``payload`` — the evidence, as
the provider sent it; the authenticated provider is the ``provider_id`` column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message

from jianguan.contracts import pb, wire
from jianguan.contracts import wire_constants as wc
from jianguan.store import native_constants as nc
from jianguan.store import quarantine
from jianguan.store.quarantine import SetAside

if TYPE_CHECKING:
    from jianguan.store._native_block import NativeBlock

_native: ModuleType | None
try:
    from jianguan.store import _native_block as _native
except ImportError:  # not built (no compiler), or the scanner it reads with is not
    _native = None

Getter = Callable[[Any], Any]
M = TypeVar("M", bound=Message)

# How a field becomes a column value: as it is (bools as 0/1); a repeated field as a list; a
# string appended, when not empty, to an array column; bytes as lowercase hex.
VALUE, LIST, APPEND, HEX = wc.C_VALUE, wc.C_LIST, wc.C_APPEND, wc.C_HEX

# Columns every row has that come from the record rather than the event.
_RECORD: tuple[str, ...] = (
    "provider_id", "received_at", "ingested_at", "batch_id", "kafka_partition", "kafka_offset",
)  # fmt: skip
# Envelope columns: (column, field path in the envelope, conversion).
_ENVELOPE: tuple[tuple[str, str, int], ...] = (
    ("service_id", "service_id", VALUE),
    ("stream_id", "stream_id", VALUE),
    ("event_id", "event_id", VALUE),
    ("occurred_at", "occurred_at.seconds", VALUE),
    ("occurred_nanos", "occurred_at.nanos", VALUE),
    ("sequence", "sequence", VALUE),
    ("prev_hash", "prev_hash", HEX),
    ("schema_version", "schema_version", VALUE),
    ("corrects_event_id", "corrects_event_id", VALUE),
)
_COMMON: tuple[str, ...] = (
    "provider_id", "service_id", "stream_id", "event_id", "kind", "occurred_at", "occurred_nanos",
    "received_at", "ingested_at", "sequence", "prev_hash", "schema_version", "batch_id",
    "kafka_partition", "kafka_offset", "corrects_event_id", "payload",
)  # fmt: skip

# Per body kind: (column, field path in the body, conversion).
_BODY: dict[str, tuple[tuple[str, str, int], ...]] = {
    "generation": (
        ("gen_operation", "operation_name", VALUE),
        ("request_model", "request_model", VALUE),
        ("response_model", "response_model", VALUE),
        ("input_tokens", "input_tokens", VALUE),
        ("output_tokens", "output_tokens", VALUE),
        ("output_type", "output_type", VALUE),
        ("finish_reasons", "finish_reasons", LIST),
        ("user_ref", "user_ref", VALUE),
        ("minor_mode", "minor_mode", VALUE),
        ("explicit_label", "explicit_label", VALUE),
        ("explicit_label_waived", "explicit_label_waived", VALUE),
        ("latency_ms", "latency_ms", VALUE),
        ("implicit_label", "implicit_label.label", VALUE),
        ("content_producer", "implicit_label.content_producer", VALUE),
        ("produce_id", "implicit_label.produce_id", VALUE),
        ("content_propagator", "implicit_label.content_propagator", VALUE),
        ("propagate_id", "implicit_label.propagate_id", VALUE),
    ),
    "moderation": (
        ("moderation_stage", "stage", VALUE),
        ("risk_category", "risk_category", VALUE),
        ("moderation_action", "action", VALUE),
        ("detector", "detector", VALUE),
        ("confidence", "confidence", VALUE),
        ("user_ref", "user_ref", VALUE),
        ("related_event_ids", "generation_event_id", APPEND),
        ("related_event_ids", "disposes_event_id", APPEND),
    ),
    "user_enforcement": (
        ("enforcement_action", "action", VALUE),
        ("user_ref", "user_ref", VALUE),
        ("related_event_ids", "reason_event_ids", LIST),
        ("reported_to_authority", "reported_to_authority", VALUE),
        ("record_kept", "record_kept", VALUE),
    ),
    "complaint": (
        ("subject_id", "complaint_id", VALUE),
        ("complaint_status", "status", VALUE),
        ("complaint_channel", "channel", VALUE),
        ("complaint_category", "category", VALUE),
        ("user_ref", "user_ref", VALUE),
        ("related_event_ids", "authority_ref", APPEND),
    ),
    "personal_info_request": (
        ("subject_id", "request_id", VALUE),
        ("pi_request_kind", "kind", VALUE),
        ("pi_request_status", "status", VALUE),
        ("user_ref", "user_ref", VALUE),
    ),
    "service_filing": (
        ("filing_kind", "kind", VALUE),
        ("filing_status", "status", VALUE),
        ("filing_number", "filing_number", VALUE),
        ("model_version", "model_version", VALUE),
        ("public_opinion_attribute", "public_opinion_attribute", VALUE),
        ("complaint_deadline_days", "complaint_deadline_days", VALUE),
        ("minor_daily_minutes", "minor_daily_minutes", VALUE),
        ("content_producer", "content_producer", VALUE),
    ),
    "incident_report": (
        ("authority", "authority", VALUE),
        ("related_event_ids", "related_event_ids", LIST),
        ("risk_category", "risk_category", VALUE),
        ("subject_id", "report_ref", VALUE),
        ("user_ref", "user_ref", VALUE),
    ),
    "model_rectification": (
        ("rectification_measure", "measure", VALUE),
        ("related_event_ids", "related_event_ids", LIST),
        ("model_version", "model_version", VALUE),
    ),
    "offshore_observation": (
        ("subject_id", "target", VALUE),
        ("jurisdiction", "jurisdiction", VALUE),
        ("estimated_domestic_users", "estimated_domestic_users", VALUE),
        ("filing_number", "filing_number_seen", VALUE),
    ),
    # Answers to an authority: the authority in ``authority`` (as an incident report's), so the
    # console can keep an inspection's answers to the authority that asked (Art. 19 ¶2).
    "correction_report": (
        ("authority", "authority_id", VALUE),
        ("subject_id", "order_ref", VALUE),
    ),
    "inspection_response": (
        ("authority", "authority_id", VALUE),
        ("subject_id", "request_ref", VALUE),
    ),
    # What ART4-SAFETY-EVALUATION judges (migration 0036 keeps them per model version).
    "safety_evaluation": (
        ("model_version", "model_version", VALUE),
        ("keyword_library_size", "keyword_library_size", VALUE),
        ("content_questions", "generated_content.questions", VALUE),
        ("content_acceptable", "generated_content.counted", VALUE),
        ("refusal_questions", "should_refuse.questions", VALUE),
        ("refusals", "should_refuse.counted", VALUE),
        ("answer_questions", "should_answer.questions", VALUE),
        ("over_refusals", "should_answer.counted", VALUE),
    ),
    # The event withdrawn, as the events an incident report names (migration 0038 links them).
    "retraction": (("related_event_ids", "retracted_event_id", APPEND),),
}
assert set(_BODY) == set(pb.BODY_KINDS), "every body kind needs a column mapping"


def _field(descriptor: Descriptor, path: str) -> FieldDescriptor:
    *parents, last = path.split(".")
    for name in parents:
        sub = descriptor.fields_by_name[name].message_type
        assert sub is not None, f"{name} is not a message"
        descriptor = sub
    return descriptor.fields_by_name[last]


def _getter(descriptor: Descriptor, path: str, conv: int) -> Getter:
    get = attrgetter(path)
    if conv == LIST:
        return lambda m: list(get(m))
    if conv == HEX:
        return lambda m: get(m).hex()
    if _field(descriptor, path).type == FieldDescriptor.TYPE_BOOL:
        return lambda m: int(get(m))
    return get


def _appended(gets: list[Getter]) -> Getter:
    return lambda m: [v for v in (g(m) for g in gets) if v]


def _getters(
    descriptor: Descriptor, spec: tuple[tuple[str, str, int], ...]
) -> tuple[tuple[str, Getter], ...]:
    """(column, getter) for the Python path; APPEND fields of one column join in spec order."""
    out: dict[str, Getter] = {}
    appended: dict[str, list[Getter]] = {}
    for column, path, conv in spec:
        if conv == APPEND:
            appended.setdefault(column, []).append(attrgetter(path))
        else:
            out[column] = _getter(descriptor, path, conv)
    for column, gets in appended.items():
        out[column] = _appended(gets)
    return tuple(out.items())


_ENVELOPE_GETTERS = _getters(pb.Envelope.DESCRIPTOR, _ENVELOPE)
_BODY_GETTERS: dict[str, tuple[tuple[str, Getter], ...]] = {
    kind: _getters(_field(pb.Event.DESCRIPTOR, kind).message_type, spec)  # type: ignore[arg-type]
    for kind, spec in _BODY.items()
}

_STRING_COLUMNS = frozenset(
    {"request_model", "response_model", "user_ref", "subject_id", "content_producer",
     "produce_id", "content_propagator", "propagate_id", "detector", "filing_number",
     "model_version", "authority", "jurisdiction", "service_id", "stream_id", "event_id",
     "prev_hash", "corrects_event_id"}
)  # fmt: skip
_ARRAY_COLUMNS = frozenset({"finish_reasons", "related_event_ids"})
_BODY_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(name for spec in _BODY.values() for name, _, _ in spec)
)
EVENT_COLUMNS: tuple[str, ...] = _COMMON[:-1] + _BODY_COLUMNS + ("payload",)


def _default(column: str) -> Any:
    if column in _STRING_COLUMNS:
        return ""
    if column in _ARRAY_COLUMNS:
        return []  # shared by the rows of a run: never mutated
    return 0.0 if column == "confidence" else 0


# For each kind, the body columns it leaves at their default.
_UNUSED: dict[str, tuple[tuple[str, Any], ...]] = {
    kind: tuple((c, _default(c)) for c in _BODY_COLUMNS if c not in {n for n, _, _ in spec})
    for kind, spec in _BODY.items()
}
# ClickHouse types of the columns a record gives every row.
_RECORD_TYPES = {
    "provider_id": "String",
    "kind": "UInt8",
    "received_at": "DateTime('UTC')",
    "ingested_at": "DateTime('UTC')",
    "batch_id": "String",
    "kafka_partition": "UInt16",
    "kafka_offset": "UInt64",
    "payload": "String",
}


def _unsigned(top: int) -> str:
    return next(t for t, bits in (("UInt8", 8), ("UInt16", 16), ("UInt32", 32)) if top < 2**bits)


def _column_type(descriptor: Descriptor, path: str, conv: int) -> str:
    """The ClickHouse type of the column a field at ``path`` fills, from the contract: strings
    and hex-written bytes are String, bools UInt8, enums the smallest type holding their values,
    floats Float32; a Timestamp's seconds DateTime('UTC') and its nanos UInt32; uint64 stays
    UInt64 (a bound limits the value, not the storage); uint32 is UInt16 when its ``max`` fits
    (``jianguan.v1.rules``), else UInt32. A repeated field is an Array of its element's type."""
    field = _field(descriptor, path)
    if conv == HEX:
        return "String"
    if conv == APPEND:
        return "Array(String)"
    owner = field.containing_type
    if owner is not None and owner.full_name == "google.protobuf.Timestamp":
        return "DateTime('UTC')" if field.name == "seconds" else "UInt32"
    top = field.GetOptions().Extensions[pb.options_pb2.rules].max
    base = {
        FieldDescriptor.TYPE_STRING: "String",
        FieldDescriptor.TYPE_BOOL: "UInt8",
        FieldDescriptor.TYPE_FLOAT: "Float32",
        FieldDescriptor.TYPE_UINT64: "UInt64",
        FieldDescriptor.TYPE_UINT32: "UInt16" if 0 < top < 2**16 else "UInt32",
    }.get(field.type)
    if field.type == FieldDescriptor.TYPE_ENUM and field.enum_type is not None:
        base = _unsigned(max(v.number for v in field.enum_type.values))
    if base is None:
        raise TypeError(f"{field.full_name}: no column type for protobuf type {field.type}")
    return f"Array({base})" if conv == LIST else base


def _derived_types() -> dict[str, str]:
    found: dict[str, set[str]] = {}
    for col, path, conv in _ENVELOPE:
        found.setdefault(col, set()).add(_column_type(pb.Envelope.DESCRIPTOR, path, conv))
    for kind, spec in _BODY.items():
        body = _field(pb.Event.DESCRIPTOR, kind).message_type
        for col, path, conv in spec:
            found.setdefault(col, set()).add(_column_type(body, path, conv))  # type: ignore[arg-type]
    shared = {c: t for c, t in found.items() if len(t) > 1}
    assert not shared, f"fields of different types share a column: {shared}"
    types = {**_RECORD_TYPES, **{c: t.pop() for c, t in found.items()}}
    return {c: types[c] for c in EVENT_COLUMNS}


# The events table's ClickHouse types, column by column, derived from the contract (the one
# schema source): the migrations must create exactly these (the store process checks the server
# before it writes, ``store.sink.event_store_sink``), and native blocks name them.
EVENT_TYPES: dict[str, str] = _derived_types()
_ENCODINGS = {
    "String": nc.CT_STRING,
    "UInt8": nc.CT_U8,
    "UInt16": nc.CT_U16,
    "UInt32": nc.CT_U32,
    "DateTime('UTC')": nc.CT_U32,
    "UInt64": nc.CT_U64,
    "Float32": nc.CT_F32,
    "Array(String)": nc.CT_ARR_STRING,
    "Array(UInt8)": nc.CT_ARR_U8,
}
_SOURCES = {
    "kind": nc.S_KIND,
    "payload": nc.S_PAYLOAD,
    "provider_id": nc.S_PROVIDER,
    "received_at": nc.S_RECEIVED,
    "ingested_at": nc.S_INGESTED,
    "batch_id": nc.S_BATCH,
    "kafka_partition": nc.S_PARTITION,
    "kafka_offset": nc.S_OFFSET,
}
_INDEX = {name: i for i, name in enumerate(EVENT_COLUMNS)}
# The scanner hands every column's field to the native encoder; the record's own columns come
# from the record (_SOURCES).
_PLAN = wire.ColumnPlan(
    fields={
        **{f"envelope.{path}": (_INDEX[col], conv) for col, path, conv in _ENVELOPE},
        **{
            f"{kind}.{path}": (_INDEX[col], conv)
            for kind, spec in _BODY.items()
            for col, path, conv in spec
        },
    },
    columns=len(EVENT_COLUMNS),
)
_SCHEMA = wire.build(_PLAN)
_BLOCK_ENCODINGS = bytes(_ENCODINGS[EVENT_TYPES[c]] for c in EVENT_COLUMNS)
_BLOCK_SOURCES = bytes(_SOURCES.get(c, nc.S_FIELD) for c in EVENT_COLUMNS)


def native_block() -> NativeBlock | None:
    """An empty block of the event store's rows in ClickHouse's native encoding; None when the
    native extensions are not built."""
    if _native is None or _SCHEMA is None:
        return None
    block: NativeBlock = _native.NativeBlock(_SCHEMA, _BLOCK_ENCODINGS, _BLOCK_SOURCES)
    return block


# The largest value of each integer column type: a value the Python path would write beyond it is
# set aside (the native encoder checks the same as it writes).
_TOP = {
    "UInt8": 2**8 - 1,
    "UInt16": 2**16 - 1,
    "UInt32": 2**32 - 1,
    "UInt64": 2**64 - 1,
    "DateTime('UTC')": 2**32 - 1,
    "Array(UInt8)": 2**8 - 1,
}
_BOUNDED_ENVELOPE = tuple(
    (c, get, _TOP[EVENT_TYPES[c]]) for c, get in _ENVELOPE_GETTERS if EVENT_TYPES[c] in _TOP
)
_BOUNDED_BODY = {
    kind: tuple((c, get, _TOP[EVENT_TYPES[c]]) for c, get in getters if EVENT_TYPES[c] in _TOP)
    for kind, getters in _BODY_GETTERS.items()
}


def _outside(value: Any, top: int) -> int | None:
    """The first of ``value`` (a number, or a list of numbers) outside 0..top, if any."""
    for v in value if isinstance(value, list) else (value,):
        if not 0 <= v <= top:
            return int(v)
    return None


def _unfit(kind: str, event: Any) -> str | None:
    """Why ``event`` cannot be a row of ``events`` (a value outside its column), or None."""
    for bounded, holder in (
        (_BOUNDED_ENVELOPE, event.envelope),
        (_BOUNDED_BODY[kind], getattr(event, kind)),
    ):
        for column, get, top in bounded:
            bad = _outside(get(holder), top)
            if bad is not None:
                return f"{column} = {bad} does not fit the column ({EVENT_TYPES[column]}: 0..{top})"
    return None


_TYPES = tuple(EVENT_TYPES[c] for c in EVENT_COLUMNS)


@dataclass(frozen=True, slots=True)
class EncodedBlock:
    """Rows in ClickHouse's native encoding: one bytes per column, of the named types."""

    rows: int
    types: tuple[str, ...]
    data: list[bytes]


@dataclass(frozen=True, slots=True)
class RecordMeta:
    """Where a record came from: trusted headers set by the gateway, and its log position."""

    provider_id: str
    received_s: int
    partition: int
    offset: int


class ColumnarBatch:
    """Column lists for one insert into ``table``; subclasses decode records into them."""

    table = ""
    column_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.data: dict[str, list[Any]] = {name: [] for name in self.column_names}
        self.rows = 0
        # Records, or events of records, that cannot be rows: the sink quarantines them.
        self.set_aside: list[SetAside] = []

    def __len__(self) -> int:
        return self.rows

    def add_record(self, value: bytes, meta: RecordMeta, ingested_s: int) -> int:
        """Decode one record and append its rows; returns rows added (0 for a bad record)."""
        raise NotImplementedError

    def add(self, value: bytes | None, meta: RecordMeta, ingested_s: int) -> int:
        """``add_record``, except that a record it cannot take in any way (no value, or its
        decoding fails unexpectedly) is set aside whole and leaves the batch as it was."""
        lengths = [len(values) for values in self.data.values()]
        rows, aside = self.rows, len(self.set_aside)
        try:
            if value is None:
                raise ValueError("the record has no value")
            return self.add_record(value, meta, ingested_s)
        except Exception as exc:
            for values, n in zip(self.data.values(), lengths, strict=True):
                del values[n:]
            self.rows = rows
            del self.set_aside[aside:]
            reason = f"cannot be decoded: {type(exc).__name__}: {exc}"
            self._put_aside(meta, 0, "", quarantine.UNDECODABLE, reason, value or b"")
            return 0

    def columns(self) -> list[list[Any]]:
        """Rows held as Python values (all of them, unless the batch also holds an encoded
        block)."""
        return [self.data[name] for name in self.column_names]

    def encoded(self) -> EncodedBlock | None:
        """Rows held as a block in ClickHouse's native column encoding, if any."""
        return None

    def _put_aside(
        self, meta: RecordMeta, item: int, event_id: str, cause: str, reason: str, payload: bytes
    ) -> None:
        self.set_aside.append(
            SetAside(
                meta.partition,
                meta.offset,
                item,
                meta.provider_id,
                event_id,
                cause,
                reason,
                payload,
            )
        )

    def _decode(self, message: type[M], value: bytes, meta: RecordMeta) -> M | None:
        """The record as ``message``; None (and the record set aside) when it is not one."""
        try:
            return message.FromString(value)
        except DecodeError as exc:
            name = message.DESCRIPTOR.full_name
            self._put_aside(meta, 0, "", quarantine.UNDECODABLE, f"not a {name}: {exc}", value)
            return None

    def _row(self, values: dict[str, Any]) -> None:
        for name in self.column_names:
            self.data[name].append(values[name])
        self.rows += 1


class ColumnBatch(ColumnarBatch):
    """Event rows for the event store, decoded a record (one service's batch) at a time."""

    table = "events"
    column_names = EVENT_COLUMNS

    def __init__(self, encoded: bool = False) -> None:
        """``encoded``: hold plainly encoded records as a native block (for a ClickHouse server
        whose table has ``EVENT_TYPES``; the native scanner writes it), the rest as Python values
        decoded by protobuf (the reference, and the only way without a server or the native
        scanner: chDB, a source checkout without a compiler)."""
        super().__init__()
        self._block = native_block() if encoded else None
        # The writer inserts the block before the Python values. Once a record has gone to the
        # Python values, so do all after it: every insert then holds a prefix of the records
        # read, which is what resuming after the highest stored offset relies on.
        self._values_only = self._block is None

    def encoded(self) -> EncodedBlock | None:
        if self._block is None or not self._block.rows:
            return None
        return EncodedBlock(self._block.rows, _TYPES, self._block.encoded())

    def add_record(self, value: bytes, meta: RecordMeta, ingested_s: int) -> int:
        """Decode one record and append its rows; returns rows added (0 for a bad record)."""
        if not self._values_only:
            assert self._block is not None
            m = meta
            added = self._block.add(
                value, m.provider_id, m.received_s, ingested_s, m.partition, m.offset
            )
            if added is not None:
                self.rows += added
                return added
            # not plainly encoded, or a value does not fit its column: protobuf decodes it
            self._values_only = True
        return self._add_decoded(value, meta, ingested_s)

    def _add_decoded(self, value: bytes, meta: RecordMeta, ingested_s: int) -> int:
        batch = self._decode(pb.EventBatch, value, meta)
        if batch is None:
            return 0
        groups: dict[str, list[Any]] = {}
        for i, ev in enumerate(batch.events):
            body = ev.WhichOneof("body")
            if body is None:  # admitted events always have a body
                self._set_aside(meta, i, ev, quarantine.UNDECODABLE, "has no body")
                continue
            unfit = _unfit(body, ev)
            if unfit is not None:
                self._set_aside(meta, i, ev, quarantine.OUT_OF_RANGE, unfit)
                continue
            groups.setdefault(body, []).append(ev)
        for kind, events in groups.items():
            self._add_group(kind, events, meta, batch.batch_id, ingested_s)
        return sum(len(g) for g in groups.values())

    def _set_aside(self, meta: RecordMeta, index: int, event: Any, cause: str, reason: str) -> None:
        event_id, payload = event.envelope.event_id, event.SerializeToString()
        self._put_aside(meta, index + 1, event_id, cause, f"events[{index}] {reason}", payload)

    def _add_group(
        self, kind: str, events: list[Any], meta: RecordMeta, batch_id: str, ingested_s: int
    ) -> None:
        n = len(events)
        d = self.data
        envs = [e.envelope for e in events]
        d["provider_id"].extend(repeat(meta.provider_id, n))
        d["kind"].extend(repeat(pb.BODY_KINDS[kind], n))
        d["received_at"].extend(repeat(meta.received_s, n))
        d["ingested_at"].extend(repeat(ingested_s, n))
        d["batch_id"].extend(repeat(batch_id, n))
        d["kafka_partition"].extend(repeat(meta.partition, n))
        d["kafka_offset"].extend(repeat(meta.offset, n))
        d["payload"].extend([e.SerializeToString() for e in events])
        for column, get in _ENVELOPE_GETTERS:
            d[column].extend([get(env) for env in envs])
        bodies = [getattr(e, kind) for e in events]
        for column, get in _BODY_GETTERS[kind]:
            d[column].extend([get(b) for b in bodies])
        for column, default in _UNUSED[kind]:
            d[column].extend(repeat(default, n))
        self.rows += n
