"""OTLP trace exports → the Generation events their GenAI spans say. Pure.

A provider points an OpenTelemetry collector (or any OTLP/gRPC exporter) at the gateway; each
span with the GenAI semantic conventions (``jianguan_sdk.otel_mapping``) becomes one Generation
event of the service its resource names: ``jianguan.service_id``, else OpenTelemetry's
``service.name``. Other spans are not the platform's business and are passed over (counted, not
refused). A GenAI span that cannot be reported as it is (an unknown operation, a raw
``enduser.id``: the gateway holds no provider's pseudonymization key, so a raw user id is
refused, never stored, Art. 11) is refused alone, with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from jianguan.contracts import pb
from jianguan_sdk.otel_mapping import SpanNotReported, SpanView, generation_of, is_generation
from jianguan_sdk.validation import is_identifier

MAX_SERVICE_ID = 64
SERVICE_KEYS = ("jianguan.service_id", "service.name")


@dataclass(frozen=True, slots=True)
class SpanEvent:
    """An unsealed Generation event and the service whose chain it joins."""

    service_id: str
    event: pb.event_pb2.Event


@dataclass(slots=True)
class Reading:
    events: list[SpanEvent] = field(default_factory=list)
    # One reason per refused span.
    refused: list[str] = field(default_factory=list)
    # Spans that are not GenAI calls.
    passed_over: int = 0


def value_of(v: AnyValue) -> Any:
    """An OTLP attribute value as Python (arrays as lists, key-value lists as dicts)."""
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [value_of(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return attributes_of(v.kvlist_value.values)
    return None if kind is None else getattr(v, kind)


def attributes_of(kvs: Any) -> dict[str, Any]:
    pairs: list[KeyValue] = list(kvs)
    return {kv.key: value_of(kv.value) for kv in pairs}


def service_of(resource: dict[str, Any]) -> str | None:
    for key in SERVICE_KEYS:
        value = resource.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _service_problem(service: str | None) -> str | None:
    """Why a resource's spans cannot be reported for its service, or None."""
    if service is None:
        return (
            "its resource names no service: set service.name (or jianguan.service_id) to the"
            " service's id as registered in its filing"
        )
    if not is_identifier(service, MAX_SERVICE_ID):
        return (
            f"the service {service!r} is no service id (at most {MAX_SERVICE_ID} letters, digits"
            " and . _ : / -)"
        )
    return None


def read(request: ExportTraceServiceRequest) -> Reading:
    out = Reading()
    for resource_spans in request.resource_spans:
        service = service_of(attributes_of(resource_spans.resource.attributes))
        problem = _service_problem(service)  # one per resource, said of each GenAI span
        for span in (s for scope in resource_spans.scope_spans for s in scope.spans):
            view = SpanView(
                name=span.name,
                attributes=attributes_of(span.attributes),
                start_ns=span.start_time_unix_nano,
                end_ns=span.end_time_unix_nano,
                trace_id=int.from_bytes(span.trace_id, "big"),
                span_id=int.from_bytes(span.span_id, "big"),
            )
            if not is_generation(view):
                out.passed_over += 1
                continue
            where = f"span {span.name!r} ({span.trace_id.hex()}/{span.span_id.hex()})"
            ids_ok = len(span.trace_id) == 16 and len(span.span_id) == 8
            why = problem or (None if ids_ok else "a span needs a 16-byte trace id and 8-byte id")
            if why is not None:
                out.refused.append(f"{where}: {why}")
                continue
            assert service is not None  # no problem: the resource names a valid service
            try:
                out.events.append(SpanEvent(service, generation_of(view)))
            except (SpanNotReported, ValueError) as exc:
                out.refused.append(f"{where}: {exc}")
    return out
