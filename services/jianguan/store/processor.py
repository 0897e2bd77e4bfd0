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
from typing import Any, TypeVar

from google.protobuf.message import DecodeError, Message

from jianguan.contracts import pb

Getter = Callable[[Any], Any]
M = TypeVar("M", bound=Message)

# Columns every row has, from the envelope and the record.
_COMMON: tuple[str, ...] = (
    "provider_id", "service_id", "event_id", "kind", "occurred_at", "occurred_nanos",
    "received_at", "ingested_at", "sequence", "prev_hash", "schema_version", "batch_id",
    "kafka_partition", "kafka_offset", "payload",
)  # fmt: skip


def _related_moderation(b: Any) -> list[str]:
    return [r for r in (b.generation_event_id, b.disposes_event_id) if r]


def _one_or_none(field: str) -> Getter:
    get = attrgetter(field)
    return lambda b: [v] if (v := get(b)) else []


def _as_list(field: str) -> Getter:
    get = attrgetter(field)
    return lambda b: list(get(b))


def _as_int(field: str) -> Getter:
    get = attrgetter(field)
    return lambda b: int(get(b))


_a = attrgetter
# Per body kind: (column, how to read it from the body).
_BODY: dict[str, tuple[tuple[str, Getter], ...]] = {
    "generation": (
        ("gen_operation", _a("operation_name")),
        ("request_model", _a("request_model")),
        ("response_model", _a("response_model")),
        ("input_tokens", _a("input_tokens")),
        ("output_tokens", _a("output_tokens")),
        ("output_type", _a("output_type")),
        ("finish_reasons", _as_list("finish_reasons")),
        ("user_ref", _a("user_ref")),
        ("minor_mode", _as_int("minor_mode")),
        ("explicit_label", _as_int("explicit_label")),
        ("latency_ms", _a("latency_ms")),
        ("implicit_label", _a("implicit_label.label")),
        ("content_producer", _a("implicit_label.content_producer")),
        ("produce_id", _a("implicit_label.produce_id")),
        ("content_propagator", _a("implicit_label.content_propagator")),
        ("propagate_id", _a("implicit_label.propagate_id")),
    ),
    "moderation": (
        ("moderation_stage", _a("stage")),
        ("risk_category", _a("risk_category")),
        ("moderation_action", _a("action")),
        ("detector", _a("detector")),
        ("confidence", _a("confidence")),
        ("user_ref", _a("user_ref")),
        ("related_event_ids", _related_moderation),
    ),
    "user_enforcement": (
        ("enforcement_action", _a("action")),
        ("user_ref", _a("user_ref")),
        ("related_event_ids", _as_list("reason_event_ids")),
        ("reported_to_authority", _as_int("reported_to_authority")),
        ("record_kept", _as_int("record_kept")),
    ),
    "complaint": (
        ("subject_id", _a("complaint_id")),
        ("complaint_status", _a("status")),
        ("complaint_channel", _a("channel")),
        ("complaint_category", _a("category")),
        ("user_ref", _a("user_ref")),
        ("related_event_ids", _one_or_none("authority_ref")),
    ),
    "personal_info_request": (
        ("subject_id", _a("request_id")),
        ("pi_request_kind", _a("kind")),
        ("pi_request_status", _a("status")),
        ("user_ref", _a("user_ref")),
    ),
    "service_filing": (
        ("filing_kind", _a("kind")),
        ("filing_status", _a("status")),
        ("filing_number", _a("filing_number")),
        ("model_version", _a("model_version")),
        ("public_opinion_attribute", _as_int("public_opinion_attribute")),
        ("complaint_deadline_days", _a("complaint_deadline_days")),
        ("minor_daily_minutes", _a("minor_daily_minutes")),
    ),
    "incident_report": (
        ("authority", _a("authority")),
        ("related_event_ids", _as_list("related_event_ids")),
        ("risk_category", _a("risk_category")),
        ("subject_id", _a("report_ref")),
    ),
    "model_rectification": (
        ("rectification_measure", _a("measure")),
        ("related_event_ids", _as_list("related_event_ids")),
        ("model_version", _a("model_version")),
    ),
    "offshore_observation": (
        ("subject_id", _a("target")),
        ("jurisdiction", _a("jurisdiction")),
        ("estimated_domestic_users", _a("estimated_domestic_users")),
        ("filing_number", _a("filing_number_seen")),
    ),
}
assert set(_BODY) == set(pb.BODY_KINDS), "every body kind needs a column mapping"

_STRING_COLUMNS = frozenset(
    {"request_model", "response_model", "user_ref", "subject_id", "content_producer",
     "produce_id", "content_propagator", "propagate_id", "detector", "filing_number",
     "model_version", "authority", "jurisdiction"}
)  # fmt: skip
_ARRAY_COLUMNS = frozenset({"finish_reasons", "related_event_ids"})
_BODY_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(name for spec in _BODY.values() for name, _ in spec)
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
    kind: tuple((c, _default(c)) for c in _BODY_COLUMNS if c not in {n for n, _ in spec})
    for kind, spec in _BODY.items()
}


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
        self.undecodable = 0

    def __len__(self) -> int:
        return self.rows

    def columns(self) -> list[list[Any]]:
        return [self.data[name] for name in self.column_names]

    def _decode(self, message: type[M], value: bytes) -> M | None:
        """The record as ``message``; None (counted as undecodable) when it is not one."""
        try:
            return message.FromString(value)
        except DecodeError:
            self.undecodable += 1
            return None

    def _row(self, values: dict[str, Any]) -> None:
        for name in self.column_names:
            self.data[name].append(values[name])
        self.rows += 1


class ColumnBatch(ColumnarBatch):
    """Event rows for the event store, decoded a record (one service's batch) at a time."""

    table = "events"
    column_names = EVENT_COLUMNS

    def add_record(self, value: bytes, meta: RecordMeta, ingested_s: int) -> int:
        """Decode one record and append its rows; returns rows added (0 for a bad record)."""
        batch = self._decode(pb.EventBatch, value)
        if batch is None:
            return 0
        groups: dict[str, list[Any]] = {}
        for ev in batch.events:
            body = ev.WhichOneof("body")
            if body is not None:  # admitted events always have a body
                groups.setdefault(body, []).append(ev)
        for kind, events in groups.items():
            self._add_group(kind, events, meta, batch.batch_id, ingested_s)
        return sum(len(g) for g in groups.values())

    def _add_group(
        self, kind: str, events: list[Any], meta: RecordMeta, batch_id: str, ingested_s: int
    ) -> None:
        n = len(events)
        d = self.data
        envs = [e.envelope for e in events]
        stamps = [env.occurred_at for env in envs]
        d["provider_id"].extend(repeat(meta.provider_id, n))
        d["service_id"].extend([env.service_id for env in envs])
        d["event_id"].extend([env.event_id for env in envs])
        d["kind"].extend(repeat(pb.BODY_KINDS[kind], n))
        d["occurred_at"].extend([t.seconds for t in stamps])
        d["occurred_nanos"].extend([t.nanos for t in stamps])
        d["received_at"].extend(repeat(meta.received_s, n))
        d["ingested_at"].extend(repeat(ingested_s, n))
        d["sequence"].extend([env.sequence for env in envs])
        d["prev_hash"].extend([env.prev_hash.hex() for env in envs])
        d["schema_version"].extend([env.schema_version for env in envs])
        d["batch_id"].extend(repeat(batch_id, n))
        d["kafka_partition"].extend(repeat(meta.partition, n))
        d["kafka_offset"].extend(repeat(meta.offset, n))
        d["payload"].extend([e.SerializeToString() for e in events])
        bodies = [getattr(e, kind) for e in events]
        for column, get in _BODY[kind]:
            d[column].extend([get(b) for b in bodies])
        for column, default in _UNUSED[kind]:
            d[column].extend(repeat(default, n))
        self.rows += n
