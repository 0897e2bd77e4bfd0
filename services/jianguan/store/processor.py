"""Turns event-log records into event-store rows. Pure: no I/O, the ingest time is passed in.

A record is one EventBatch of one (provider, service); each event becomes one row whose columns
are listed in EVENT_COLUMNS (the order of the INSERT). The row keeps the event's exact encoding in
``payload``, so evidence and replays read what the provider sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError

from jianguan.contracts import pb

EVENT_COLUMNS: tuple[str, ...] = (
    "provider_id", "service_id", "event_id", "kind", "occurred_at", "occurred_nanos",
    "received_at", "ingested_at", "sequence", "prev_hash", "schema_version", "batch_id",
    "kafka_partition", "kafka_offset", "user_ref", "subject_id", "related_event_ids",
    "risk_category", "gen_operation", "request_model", "response_model", "input_tokens",
    "output_tokens", "output_type", "finish_reasons", "minor_mode", "explicit_label",
    "implicit_label", "content_producer", "produce_id", "content_propagator", "propagate_id",
    "latency_ms", "moderation_stage", "moderation_action", "detector", "confidence",
    "enforcement_action", "reported_to_authority", "record_kept", "complaint_status",
    "complaint_channel", "complaint_category", "pi_request_kind", "pi_request_status",
    "filing_kind", "filing_status", "filing_number", "model_version",
    "public_opinion_attribute", "complaint_deadline_days", "authority", "rectification_measure",
    "jurisdiction", "estimated_domestic_users", "payload",
)  # fmt: skip
_I = {name: i for i, name in enumerate(EVENT_COLUMNS)}
_DEFAULTS: list[Any] = [
    [] if name in ("related_event_ids", "finish_reasons") else
    "" if name in {
        "provider_id", "service_id", "event_id", "prev_hash", "batch_id", "user_ref",
        "subject_id", "request_model", "response_model", "content_producer", "produce_id",
        "content_propagator", "propagate_id", "detector", "filing_number", "model_version",
        "authority", "jurisdiction", "payload",
    } else 0
    for name in EVENT_COLUMNS
]  # fmt: skip
_DEFAULTS[_I["confidence"]] = 0.0

Row = list[Any]


def _generation(row: Row, b: Any) -> None:
    row[_I["gen_operation"]] = b.operation_name
    row[_I["request_model"]] = b.request_model
    row[_I["response_model"]] = b.response_model
    row[_I["input_tokens"]] = b.input_tokens
    row[_I["output_tokens"]] = b.output_tokens
    row[_I["output_type"]] = b.output_type
    row[_I["finish_reasons"]] = list(b.finish_reasons)
    row[_I["user_ref"]] = b.user_ref
    row[_I["minor_mode"]] = int(b.minor_mode)
    row[_I["explicit_label"]] = int(b.explicit_label)
    row[_I["latency_ms"]] = b.latency_ms
    if b.HasField("implicit_label"):
        lab = b.implicit_label
        row[_I["implicit_label"]] = lab.label
        row[_I["content_producer"]] = lab.content_producer
        row[_I["produce_id"]] = lab.produce_id
        row[_I["content_propagator"]] = lab.content_propagator
        row[_I["propagate_id"]] = lab.propagate_id


def _moderation(row: Row, b: Any) -> None:
    row[_I["moderation_stage"]] = b.stage
    row[_I["risk_category"]] = b.risk_category
    row[_I["moderation_action"]] = b.action
    row[_I["detector"]] = b.detector
    row[_I["confidence"]] = b.confidence
    row[_I["user_ref"]] = b.user_ref
    row[_I["related_event_ids"]] = [r for r in (b.generation_event_id, b.disposes_event_id) if r]


def _enforcement(row: Row, b: Any) -> None:
    row[_I["enforcement_action"]] = b.action
    row[_I["user_ref"]] = b.user_ref
    row[_I["related_event_ids"]] = list(b.reason_event_ids)
    row[_I["reported_to_authority"]] = int(b.reported_to_authority)
    row[_I["record_kept"]] = int(b.record_kept)


def _complaint(row: Row, b: Any) -> None:
    row[_I["subject_id"]] = b.complaint_id
    row[_I["complaint_status"]] = b.status
    row[_I["complaint_channel"]] = b.channel
    row[_I["complaint_category"]] = b.category
    row[_I["user_ref"]] = b.user_ref
    if b.authority_ref:
        row[_I["related_event_ids"]] = [b.authority_ref]


def _pi_request(row: Row, b: Any) -> None:
    row[_I["subject_id"]] = b.request_id
    row[_I["pi_request_kind"]] = b.kind
    row[_I["pi_request_status"]] = b.status
    row[_I["user_ref"]] = b.user_ref


def _filing(row: Row, b: Any) -> None:
    row[_I["filing_kind"]] = b.kind
    row[_I["filing_status"]] = b.status
    row[_I["filing_number"]] = b.filing_number
    row[_I["model_version"]] = b.model_version
    row[_I["public_opinion_attribute"]] = int(b.public_opinion_attribute)
    row[_I["complaint_deadline_days"]] = b.complaint_deadline_days


def _incident(row: Row, b: Any) -> None:
    row[_I["authority"]] = b.authority
    row[_I["related_event_ids"]] = list(b.related_event_ids)
    row[_I["risk_category"]] = b.risk_category
    row[_I["subject_id"]] = b.report_ref


def _rectification(row: Row, b: Any) -> None:
    row[_I["rectification_measure"]] = b.measure
    row[_I["related_event_ids"]] = list(b.related_event_ids)
    row[_I["model_version"]] = b.model_version


def _offshore(row: Row, b: Any) -> None:
    row[_I["subject_id"]] = b.target
    row[_I["jurisdiction"]] = b.jurisdiction
    row[_I["estimated_domestic_users"]] = b.estimated_domestic_users
    row[_I["filing_number"]] = b.filing_number_seen


_BODY: dict[str, Callable[[Row, Any], None]] = {
    "generation": _generation,
    "moderation": _moderation,
    "user_enforcement": _enforcement,
    "complaint": _complaint,
    "personal_info_request": _pi_request,
    "service_filing": _filing,
    "incident_report": _incident,
    "model_rectification": _rectification,
    "offshore_observation": _offshore,
}
assert set(_BODY) == set(pb.BODY_KINDS), "every body kind needs a row mapping"


@dataclass(frozen=True, slots=True)
class RecordMeta:
    """Where a record came from: trusted headers set by the gateway, and its log position."""

    provider_id: str
    received_s: int
    partition: int
    offset: int


def event_row(event: pb.event_pb2.Event, meta: RecordMeta, batch_id: str, ingested_s: int) -> Row:
    env = event.envelope
    kind = event.WhichOneof("body")
    assert kind is not None  # admitted events always have a body
    row = _DEFAULTS.copy()
    row[0] = meta.provider_id
    row[1] = env.service_id
    row[2] = env.event_id
    row[3] = pb.BODY_KINDS[kind]
    row[4] = env.occurred_at.seconds
    row[5] = env.occurred_at.nanos
    row[6] = meta.received_s
    row[7] = ingested_s
    row[8] = env.sequence
    row[9] = env.prev_hash.hex()
    row[10] = env.schema_version
    row[11] = batch_id
    row[12] = meta.partition
    row[13] = meta.offset
    _BODY[kind](row, getattr(event, kind))
    # The evidence: exactly what the provider sent, with the authenticated provider filled in.
    if env.provider_id != meta.provider_id:
        env.provider_id = meta.provider_id
    row[-1] = event.SerializeToString()
    return row


@dataclass(slots=True)
class RowBatch:
    """Rows accumulated for one insert."""

    rows: list[Row] = field(default_factory=list)
    undecodable: int = 0

    def add_record(self, value: bytes, meta: RecordMeta, ingested_s: int) -> int:
        """Decode one record and append its rows; returns rows added (0 for a bad record)."""
        try:
            batch = pb.EventBatch.FromString(value)
        except DecodeError:
            self.undecodable += 1
            return 0
        bid = batch.batch_id
        rows = [event_row(ev, meta, bid, ingested_s) for ev in batch.events]
        self.rows.extend(rows)
        return len(rows)

    def columns(self) -> list[list[Any]]:
        """Column-major data for a columnar insert."""
        return [list(c) for c in zip(*self.rows, strict=True)] if self.rows else []

    def __len__(self) -> int:
        return len(self.rows)
