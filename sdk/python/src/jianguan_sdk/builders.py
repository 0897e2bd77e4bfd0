"""Typed builders for every event kind: keyword arguments named as in the contract, enums by their
short name (``action="stop_generation"``) or number, times as ``datetime`` or epoch seconds.

Each returns an unsealed ``Event``: the reporter fills in service, sequence and hash chain. The
event id defaults to a random UUID; pass your own stable id (e.g. your database key) when the
same fact may be reported twice, so the platform stores it once.

A wrong name or value raises ``ValueError`` at once, naming the field and the allowed values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
import uuid
from collections.abc import Sequence
from typing import Any

from google.protobuf.message import Message

from jianguan_sdk import pb

When = dt.datetime | float | None
Enum = str | int


def _seconds(when: When) -> float:
    if when is None:
        return time.time()
    if isinstance(when, dt.datetime):
        if when.tzinfo is None:
            raise ValueError("give an aware datetime (e.g. tzinfo=datetime.timezone.utc)")
        return when.timestamp()
    return float(when)


def _set_time(target: Any, when: When) -> None:
    target.FromNanoseconds(round(_seconds(when) * 1e9))


def enum_value(enum: Any, value: Enum, where: str) -> int:
    """``"blocked"``, ``"BLOCKED"`` or ``"MODERATION_ACTION_BLOCKED"`` → its number in ``enum`` (an
    EnumDescriptor)."""
    prefix = enum.values[0].name.removesuffix("UNSPECIFIED")
    if isinstance(value, int):
        if value not in enum.values_by_number or value == 0:
            raise ValueError(f"{where}: {value} is not a {enum.name}")
        return value
    name = value.upper()
    found = enum.values_by_name.get(name) or enum.values_by_name.get(prefix + name)
    if found is None or found.number == 0:
        allowed = ", ".join(v.name.removeprefix(prefix).lower() for v in enum.values[1:])
        raise ValueError(f"{where}: {value!r} is not a {enum.name}; use one of: {allowed}")
    return int(found.number)


def _fill(msg: Message, path: str, fields: dict[str, Any]) -> None:
    descriptor = msg.DESCRIPTOR
    for name, value in fields.items():
        if value is None:
            continue
        field = descriptor.fields_by_name[name]
        where = f"{path}.{name}"
        if field.message_type is not None and field.message_type.name == "Timestamp":
            _set_time(getattr(msg, name), value)
        elif field.message_type is not None and field.is_repeated:
            for i, item in enumerate(value):
                _fill(getattr(msg, name).add(), f"{where}[{i}]", item)
        elif field.message_type is not None:
            _fill(getattr(msg, name), where, value)
        elif field.enum_type is not None and field.is_repeated:
            getattr(msg, name).extend(enum_value(field.enum_type, v, where) for v in value)
        elif field.enum_type is not None:
            setattr(msg, name, enum_value(field.enum_type, value, where))
        elif field.is_repeated:
            getattr(msg, name).extend(value)
        else:
            setattr(msg, name, value)


def _event(kind: str, fields: dict[str, Any]) -> pb.event_pb2.Event:
    ev = pb.Event()
    ev.envelope.event_id = fields.pop("event_id") or uuid.uuid4().hex
    _set_time(ev.envelope.occurred_at, fields.pop("occurred_at"))
    _fill(getattr(ev, kind), kind, fields)
    return ev


def generation(
    *,
    operation_name: Enum = "chat",
    request_model: str,
    output_type: Enum = "text",
    response_model: str | None = None,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    finish_reasons: Sequence[Enum] = (),
    user_ref: str | None = None,
    minor_mode: bool | None = None,
    explicit_label: bool | None = None,
    explicit_label_waived: bool | None = None,
    implicit_label: dict[str, Any] | None = None,
    latency_ms: int | None = None,
    trace_id: str | None = None,
    span_id: str | None = None,
    event_id: str | None = None,
    occurred_at: When = None,
) -> pb.event_pb2.Event:
    """A generation (gen_ai.* names; ``trace_id``/``span_id``: its OpenTelemetry span). Text
    answers (chat, writing) need ``explicit_label=True``
    (a notice in the text); images, video, audio and virtual scenes need it and
    ``implicit_label=dict(label="generated", content_producer=..., produce_id=...)`` (Art. 12).
    ``explicit_label_waived=True`` instead of an explicit label: the user asked for content
    without one under the user agreement (Labeling Measures Art. 9)."""
    return _event("generation", dict(locals()))


def moderation(
    *,
    stage: Enum,
    risk_category: Enum,
    action: Enum,
    detector: str | None = None,
    confidence: float | None = None,
    user_ref: str | None = None,
    generation_event_id: str | None = None,
    disposes_event_id: str | None = None,
    event_id: str | None = None,
    occurred_at: When = None,
) -> pb.event_pb2.Event:
    """A moderation hit at the input or output stage and what was done (Art. 4, 14)."""
    return _event("moderation", dict(locals()))


def user_enforcement(
    *,
    action: Enum,
    user_ref: str,
    reason_event_ids: Sequence[str] = (),
    reported_to_authority: bool | None = None,
    record_kept: bool | None = None,
    note: str | None = None,
    event_id: str | None = None,
    occurred_at: When = None,
) -> pb.event_pb2.Event:
    """Warning, restriction, suspension or termination of a user (Art. 14 ¶2)."""
    return _event("user_enforcement", dict(locals()))


def complaint(
    *,
    complaint_id: str,
    status: Enum,
    channel: Enum,
    category: Enum,
    user_ref: str | None = None,
    summary: str | None = None,
    authority_ref: str | None = None,
    event_id: str | None = None,
    occurred_at: When = None,
) -> pb.event_pb2.Event:
    """A complaint received, acknowledged or resolved (Art. 15); one event per status change."""
    return _event("complaint", dict(locals()))


def personal_info_request(
    *,
    request_id: str,
    kind: Enum,
    status: Enum,
    user_ref: str | None = None,
    refusal_reason: str | None = None,
    event_id: str | None = None,
    occurred_at: When = None,
) -> pb.event_pb2.Event:
    """A request to access, copy, correct, supplement or delete personal information (Art. 11)."""
    return _event("personal_info_request", dict(locals()))


def service_filing(
    *,
    kind: Enum,
    status: Enum,
    filing_number: str | None = None,
    service_name: str | None = None,
    model_version: str | None = None,
    public_opinion_attribute: bool | None = None,
    complaint_deadline_days: int | None = None,
    complaint_channel_url: str | None = None,
    effective_at: When = None,
    minor_daily_minutes: int | None = None,
    complaint_deadline_unit: Enum | None = None,
    content_producer: str | None = None,
    intended_users: str | None = None,
    intended_uses: str | None = None,
    usage_policy_url: str | None = None,
    user_agreement_version: str | None = None,
    user_agreement_url: str | None = None,
    event_id: str | None = None,
    occurred_at: When = None,
) -> pb.event_pb2.Event:
    """Registration, security assessment, algorithm filing, change or cancellation (Art. 15, 17).
    A registration also publishes whom and what the service is for (``intended_users``,
    ``intended_uses``, ``usage_policy_url``; Art. 10) and names the service agreement its users
    sign (``user_agreement_version``, ``user_agreement_url``; Art. 9)."""
    return _event("service_filing", dict(locals()))


def incident_report(
    *,
    authority: str,
    related_event_ids: Sequence[str] = (),
    risk_category: Enum | None = None,
    summary: str | None = None,
    report_ref: str | None = None,
    event_id: str | None = None,
    occurred_at: When = None,
) -> pb.event_pb2.Event:
    """A report of illegal content or activity to a competent authority (Art. 14)."""
    return _event("incident_report", dict(locals()))


def model_rectification(
    *,
    measure: Enum,
    related_event_ids: Sequence[str] = (),
    model_version: str | None = None,
    summary: str | None = None,
    completed_at: When = None,
    event_id: str | None = None,
    occurred_at: When = None,
) -> pb.event_pb2.Event:
    """Model optimisation training or another rectification after illegal output (Art. 14)."""
    return _event("model_rectification", dict(locals()))


def offshore_observation(
    *,
    observer: str,
    target: str,
    jurisdiction: str | None = None,
    estimated_domestic_users: int | None = None,
    filing_number_seen: str | None = None,
    service_name: str | None = None,
    event_id: str | None = None,
    occurred_at: When = None,
) -> pb.event_pb2.Event:
    """An offshore service observed serving users in the PRC (Art. 20)."""
    return _event("offshore_observation", dict(locals()))


def document(
    path: str | os.PathLike[str] | None = None,
    *,
    content: bytes | None = None,
    sha256: bytes | None = None,
    title: str | None = None,
    media_type: str | None = None,
) -> dict[str, Any]:
    """A document for ``correction_report`` or ``inspection_response``, identified by its SHA-256:
    of the file at ``path``, of ``content``, or the digest itself. Only the digest, title, type and
    size are reported; the content stays with you until the authority asks for it."""
    given = [x for x in (path, content, sha256) if x is not None]
    if len(given) != 1:
        raise ValueError("document: give exactly one of path, content or sha256")
    size: int | None = None
    if path is not None:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        sha256, size = digest.digest(), os.path.getsize(path)
    elif content is not None:
        sha256, size = hashlib.sha256(content).digest(), len(content)
    assert sha256 is not None
    if len(sha256) != 32:
        raise ValueError(f"document.sha256: {len(sha256)} bytes; a SHA-256 digest has 32")
    return dict(sha256=sha256, title=title, media_type=media_type, size_bytes=size)


def correction_report(
    *,
    authority_id: str,
    order_ref: str,
    completed_at: When,
    measures: str,
    documents: Sequence[dict[str, Any]] = (),
    event_id: str | None = None,
    occurred_at: When = None,
) -> pb.event_pb2.Event:
    """The correction an authority's order required is done (Art. 21): ``order_ref`` as the
    order gives it, what was done (``measures``), and the documents that show it
    (``document(...)``)."""
    return _event("correction_report", dict(locals()))


def inspection_response(
    *,
    authority_id: str,
    request_ref: str,
    topics: Sequence[Enum],
    explanation: str | None = None,
    documents: Sequence[dict[str, Any]] = (),
    event_id: str | None = None,
    occurred_at: When = None,
) -> pb.event_pb2.Event:
    """An answer to an authority's inspection request (Art. 19) on ``topics`` (e.g.
    ``"training_data_source"``, ``"annotation_rules"``); several answers may share a request.
    Only the requesting authority sees it."""
    return _event("inspection_response", dict(locals()))


def safety_evaluation(
    *,
    model_version: str,
    keyword_library_size: int,
    generated_content: tuple[int, int],
    should_refuse: tuple[int, int],
    should_answer: tuple[int, int],
    evaluator: str | None = None,
    report: dict[str, Any] | None = None,
    event_id: str | None = None,
    occurred_at: When = None,
) -> pb.event_pb2.Event:
    """A safety evaluation of ``model_version`` (Art. 4; TC260-003-2024), dated when it was made:
    the keyword library's size and, per test set, (questions drawn, answers counted):
    ``generated_content`` counts the answers judged acceptable, ``should_refuse`` the questions
    refused, ``should_answer`` the questions refused that should have been answered. ``report``
    is a ``document(...)``: only its digest is reported."""

    def result(pair: tuple[int, int]) -> dict[str, int]:
        questions, counted = pair
        return dict(questions=questions, counted=counted)

    return _event(
        "safety_evaluation",
        dict(
            model_version=model_version,
            keyword_library_size=keyword_library_size,
            generated_content=result(generated_content),
            should_refuse=result(should_refuse),
            should_answer=result(should_answer),
            evaluator=evaluator,
            report=report,
            event_id=event_id,
            occurred_at=occurred_at,
        ),
    )


def correcting(original_event_id: str, event: pb.event_pb2.Event) -> pb.event_pb2.Event:
    """``event`` (built by any builder here, for the same service and of the same kind) as the
    correction of your earlier event ``original_event_id``: both stay in the log, linked, and the
    platform judges this one in the other's place, whichever it receives first."""
    event.envelope.corrects_event_id = original_event_id
    return event


def retraction(
    *,
    retracted_event_id: str,
    reason: str,
    event_id: str | None = None,
    occurred_at: When = None,
) -> pb.event_pb2.Event:
    """Withdraws your earlier event ``retracted_event_id`` of the same service, reported in
    error: it stays in the log, linked to this one, and the platform judges as if it had never
    been reported."""
    return _event("retraction", dict(locals()))
