"""Every number and time a provider can send is bounded by the contract, judged at its limits by
the validator and the native scanner alike, and fits the store's column that keeps it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from jianguan.contracts import pb
from jianguan.contracts.codec import encode_batch
from jianguan.simulator.traffic import ProviderTraffic
from jianguan.store import processor
from jianguan.store.processor import EVENT_TYPES
from jianguan_sdk.validation import (
    DEFAULT_LIMITS,
    INVALID,
    TIMESTAMP_END_S,
    TIMESTAMP_MIN_S,
    validate,
)
from tests.scenarios.library import load_all

NOW = 1_800_000_000.0
_INTEGERS = {
    FieldDescriptor.TYPE_UINT64: 2**64 - 1,
    FieldDescriptor.TYPE_UINT32: 2**32 - 1,
}
_TIMESTAMP = "google.protobuf.Timestamp"
# Bounded by something other than ``max``: the set of supported versions.
_BOUNDED_OTHERWISE = {"envelope.schema_version"}
# The largest value each ClickHouse column type of the event store holds.
_COLUMN_MAX = {
    "UInt8": 2**8 - 1,
    "UInt16": 2**16 - 1,
    "UInt32": 2**32 - 1,
    "UInt64": 2**64 - 1,
    "DateTime('UTC')": 2**32 - 1,
}


def _walk(descriptor: Descriptor, path: str = "") -> Iterator[tuple[str, FieldDescriptor]]:
    for f in descriptor.fields:
        here = f"{path}.{f.name}" if path else f.name
        yield here, f
        if f.type == FieldDescriptor.TYPE_MESSAGE and f.message_type.full_name != _TIMESTAMP:
            yield from _walk(f.message_type, here)


FIELDS = list(_walk(pb.Event.DESCRIPTOR))
INTEGER_PATHS = [p for p, f in FIELDS if f.type in _INTEGERS]
TIMESTAMP_PATHS = [
    p
    for p, f in FIELDS
    if f.type == FieldDescriptor.TYPE_MESSAGE and f.message_type.full_name == _TIMESTAMP
]


def _examples() -> dict[str, pb.event_pb2.Event]:
    """One valid event of each kind, happening now."""
    out: dict[str, pb.event_pb2.Event] = {}
    events = [ev for s in load_all(NOW - 3600) for ev in s.events]
    events += ProviderTraffic("acme", ("svc-1",), seed=7).events(600, NOW, service="svc-1")
    # of each kind, one that is not the first of its chain where there is one (it carries a
    # prev_hash, so its sequence may be set to anything)
    for ev in sorted(events, key=lambda e: e.envelope.sequence == 1):
        out.setdefault(ev.WhichOneof("body") or "", ev)
    for ev in out.values():
        ev.envelope.occurred_at.seconds = int(NOW)
    assert set(pb.BODY_KINDS) <= set(out)
    return out


EXAMPLES = _examples()


def _example(kind: str) -> pb.event_pb2.Event:
    return EXAMPLES[kind]


def _holder(ev: Message, path: str) -> tuple[Message, str]:
    *parents, last = path.split(".")
    msg = ev
    for name in parents:
        msg = getattr(msg, name)
        if not isinstance(msg, Message):  # a repeated message: its first item
            msg = msg[0] if len(msg) else msg.add()
    return msg, last


def _with(path: str, value: int, sub: str = "") -> pb.event_pb2.Event:
    kind = path.split(".")[0]
    ev = pb.Event()
    ev.CopyFrom(_example(kind if kind != "envelope" else "generation"))
    holder, name = _holder(ev, path)
    if sub:
        holder = getattr(holder, name)
        name = sub
    setattr(holder, name, value)
    return ev


def _rules(f: FieldDescriptor) -> pb.options_pb2.FieldRules:
    return f.GetOptions().Extensions[pb.options_pb2.rules]


def _scanner_passes(ev: pb.event_pb2.Event) -> bool:
    """The native scanner lets the event through without the Python validator."""
    from jianguan.contracts import wire

    scan = wire.scanner()
    assert scan is not None
    lim = DEFAULT_LIMITS
    raw = encode_batch("b", [ev.SerializeToString()])
    scanned = scan.scan(raw, NOW, lim.max_future_skew_s, lim.max_age_s, lim.max_event_bytes)
    return scanned is not None and 0 not in scanned[4]


def test_every_integer_field_states_its_largest_value() -> None:
    unbounded = [
        p
        for p, f in FIELDS
        if f.type in _INTEGERS and not _rules(f).max and p not in _BOUNDED_OTHERWISE
    ]
    assert unbounded == []
    assert not [
        p for p, f in FIELDS if f.type in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_INT32)
    ]


@pytest.mark.parametrize("path", [p for p in INTEGER_PATHS if p not in _BOUNDED_OTHERWISE])
def test_integers_are_accepted_up_to_their_max_and_refused_beyond(path: str) -> None:
    f = dict(FIELDS)[path]
    limit = _rules(f).max
    assert validate(_with(path, limit), NOW) is None
    for over in sorted({limit + 1, _INTEGERS[f.type]}):
        ev = _with(path, over)
        problem = validate(ev, NOW)
        assert problem is not None
        assert problem.status == INVALID
        assert problem.path.replace("[0]", "") == path  # the first item of a repeated message
        assert str(limit) in problem.reason
        assert not _scanner_passes(ev)


@pytest.mark.parametrize("path", TIMESTAMP_PATHS)
def test_timestamps_are_refused_outside_1970_to_2099(path: str) -> None:
    for seconds in (-(2**63), -62135596800, TIMESTAMP_MIN_S - 1, TIMESTAMP_END_S, 2**63 - 1):
        ev = _with(path, seconds, sub="seconds")
        problem = validate(ev, NOW)
        assert problem is not None, seconds
        assert problem.status == INVALID
        assert problem.path == path
        assert "1970-01-01" in problem.reason
        assert not _scanner_passes(ev)
    if path != "envelope.occurred_at":  # the event's own time is also held near the present
        for seconds in (TIMESTAMP_MIN_S, TIMESTAMP_END_S - 1):
            assert validate(_with(path, seconds, sub="seconds"), NOW) is None


def _column_of(path: str) -> list[str]:
    """The event-store columns a contract field is kept in (none for payload-only fields)."""
    kind, _, rest = path.partition(".")
    spec = processor._ENVELOPE if kind == "envelope" else processor._BODY.get(kind, ())
    return [col for col, field, _ in spec if field in (rest, f"{rest}.seconds")]


@pytest.mark.parametrize("path", INTEGER_PATHS + TIMESTAMP_PATHS)
def test_every_accepted_value_fits_its_column(path: str) -> None:
    f = dict(FIELDS)[path]
    largest = TIMESTAMP_END_S - 1 if f.type == FieldDescriptor.TYPE_MESSAGE else _rules(f).max
    if path in _BOUNDED_OTHERWISE:
        largest = max(pb.SUPPORTED_SCHEMA_VERSIONS)
    for column in _column_of(path):
        assert largest <= _COLUMN_MAX[EVENT_TYPES[column]], (path, column)


def test_the_stored_fields_are_found() -> None:
    kept = {p for p in INTEGER_PATHS + TIMESTAMP_PATHS if _column_of(p)}
    assert {"envelope.sequence", "envelope.occurred_at", "generation.latency_ms"} <= kept
    assert {
        "service_filing.minor_daily_minutes",
        "offshore_observation.estimated_domestic_users",
    } <= kept
