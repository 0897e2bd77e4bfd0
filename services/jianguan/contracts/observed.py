"""jianguan.v1.Event → domain Observed (what the rule engines read)."""

from __future__ import annotations

import re
from typing import Any

from google.protobuf.descriptor import EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from jianguan.contracts import pb
from jianguan.domain.events import Observed

_TIMESTAMP = "google.protobuf.Timestamp"
_prefixes: dict[str, str] = {}


def _short(enum: EnumDescriptor, number: int) -> str | int:
    prefix = _prefixes.get(enum.full_name)
    if prefix is None:
        prefix = _prefixes[enum.full_name] = (
            re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper() + "_"
        )
    value = enum.values_by_number.get(number)
    return value.name.removeprefix(prefix) if value is not None else number


def _value(fd: FieldDescriptor, v: Any) -> Any:
    if fd.type == FieldDescriptor.TYPE_ENUM:
        assert fd.enum_type is not None
        return _short(fd.enum_type, v)
    if fd.type == FieldDescriptor.TYPE_MESSAGE:
        assert fd.message_type is not None
        if fd.message_type.full_name == _TIMESTAMP:
            return v.seconds + v.nanos / 1e9
        return fields(v)
    return v


def fields(msg: Message) -> dict[str, Any]:
    """The set fields of a message by name; enums by short name, repeated fields as tuples."""
    out: dict[str, Any] = {}
    for fd, v in msg.ListFields():
        out[fd.name] = tuple(_value(fd, x) for x in v) if fd.is_repeated else _value(fd, v)
    return out


def observed_authority_complaint(c: pb.authority_pb2.AuthorityComplaint) -> Observed:
    """A complaint made to an authority, as the rules see it (kind ``authority_complaint``)."""
    return Observed(
        provider_id=c.provider_id,
        service_id=c.service_id,
        event_id=c.authority_ref,
        kind="authority_complaint",
        at=c.received_at.seconds + c.received_at.nanos / 1e9,
        body=fields(c),
    )


def observed(event: pb.event_pb2.Event, provider_id: str) -> Observed | None:
    kind = event.WhichOneof("body")
    if kind is None:
        return None
    env = event.envelope
    return Observed(
        provider_id=provider_id,
        service_id=env.service_id,
        event_id=env.event_id,
        kind=kind,
        at=env.occurred_at.seconds + env.occurred_at.nanos / 1e9,
        body=fields(getattr(event, kind)),
    )
