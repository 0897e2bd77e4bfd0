"""jianguan.v1.Event → domain Observed (what the rule engines read)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from jianguan.contracts import pb
from jianguan.domain.events import Observed
from jianguan.domain.law import Citation

_TIMESTAMP = "google.protobuf.Timestamp"
Convert = Callable[[Any], Any]
# Per field: how its values become domain values (built once per field, then looked up).
_converters: dict[FieldDescriptor, Convert] = {}


def _enum_names(enum: EnumDescriptor) -> Convert:
    """Enum numbers → short names (``MODERATION_STAGE_OUTPUT`` → ``OUTPUT``); an unknown number
    stays a number."""
    prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper() + "_"
    names = {v.number: v.name.removeprefix(prefix) for v in enum.values}
    return lambda n: names.get(n, n)


def _converter(fd: FieldDescriptor) -> Convert:
    convert = _converters.get(fd)
    if convert is None:
        if fd.type == FieldDescriptor.TYPE_ENUM:
            assert fd.enum_type is not None
            one = _enum_names(fd.enum_type)
        elif fd.type == FieldDescriptor.TYPE_MESSAGE:
            assert fd.message_type is not None
            one = _seconds if fd.message_type.full_name == _TIMESTAMP else fields
        else:
            one = _same
        convert = (lambda vs: tuple(map(one, vs))) if fd.is_repeated else one
        _converters[fd] = convert
    return convert


def _seconds(ts: Any) -> float:
    return float(ts.seconds + ts.nanos / 1e9)


def _same(v: Any) -> Any:
    return v


def fields(msg: Message) -> dict[str, Any]:
    """The set fields of a message by name; enums by short name, repeated fields as tuples."""
    return {fd.name: _converter(fd)(v) for fd, v in msg.ListFields()}


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


# Per kind of authority action: the fields holding its reference and its deadline.
DEMAND_FIELDS = {
    "correction_order": ("order_ref", "due_at"),
    "inspection_request": ("request_ref", "respond_by"),
}
# Each kind of authority action's number in AuthorityAction's oneof (how the store keeps it,
# ``authority_actions.kind``).
DEMAND_KINDS: dict[str, int] = {
    f.name: f.number
    for f in pb.authority_pb2.AuthorityAction.DESCRIPTOR.oneofs_by_name["action"].fields
}


def citation(cited: pb.authority_pb2.CitedProvision) -> Citation:
    """A provision an order cites, as a place of the Measures (0: no paragraph, no item)."""
    return Citation(cited.article, cited.paragraph or None, cited.item or None)


def observed_authority_action(
    action: pb.authority_pb2.AuthorityAction, authority_id: str
) -> Observed | None:
    """An authority's demand as the rules see it (kind ``correction_order`` or
    ``inspection_request``): its reference as the event id, ``issued_at`` as its time, the
    recording authority (from its credential, never the payload) in ``authority_id`` and the
    deadline in ``due``."""
    kind = action.WhichOneof("action")
    if kind is None:
        return None
    demand = getattr(action, kind)
    ref_field, due_field = DEMAND_FIELDS[kind]
    services = demand.service_ids
    return Observed(
        provider_id=demand.provider_id,
        service_id=services[0] if services else "",
        event_id=getattr(demand, ref_field),
        kind=kind,
        at=_seconds(demand.issued_at),
        body={
            **fields(demand),
            "authority_id": authority_id,
            "due": _seconds(getattr(demand, due_field)),
        },
    )


# What an authority records of a provider: a complaint made to it, or a demand.
AuthorityRecord = pb.authority_pb2.AuthorityComplaint | pb.authority_pb2.AuthorityAction


def observed_authority_record(record: AuthorityRecord, authority_id: str) -> Observed | None:
    """What an authority recorded, as the rules see it: a complaint made to it or a demand."""
    if isinstance(record, pb.authority_pb2.AuthorityComplaint):
        return observed_authority_complaint(record)
    return observed_authority_action(record, authority_id)


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
        corrects=env.corrects_event_id,
    )
