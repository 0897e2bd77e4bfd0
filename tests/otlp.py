"""OTLP trace exports built by hand, as a collector sends them (opentelemetry.proto)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span


def kv(key: str, value: object) -> KeyValue:
    """An attribute: a bool, an int, a list (of strings) or a string."""
    v = AnyValue()
    if isinstance(value, bool):
        v.bool_value = value
    elif isinstance(value, int):
        v.int_value = value
    elif isinstance(value, list):
        v.array_value.values.extend(AnyValue(string_value=str(x)) for x in value)
    else:
        v.string_value = str(value)
    return KeyValue(key=key, value=v)


def genai_span(n: int, **extra: object) -> Span:
    """The n-th chat call of a GenAI service, its trace and span ids all n+1 bytes."""
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "acme-chat-3",
        "gen_ai.usage.input_tokens": 100 + n,
        "gen_ai.usage.output_tokens": 20,
        "gen_ai.response.finish_reasons": ["stop"],
        **extra,
    }
    return Span(
        trace_id=bytes([n + 1]) * 16,
        span_id=bytes([n + 1]) * 8,
        name=f"chat {n}",
        start_time_unix_nano=1_790_000_000_000_000_000 + n * 1_000_000_000,
        end_time_unix_nano=1_790_000_000_500_000_000 + n * 1_000_000_000,
        attributes=[kv(k, v) for k, v in attributes.items()],
    )


def export_request(
    resource: Mapping[str, object], spans: Iterable[Span]
) -> ExportTraceServiceRequest:
    """One resource (its attributes) and its spans, in one scope."""
    rs = ResourceSpans()
    rs.resource.attributes.extend(kv(k, v) for k, v in resource.items())
    rs.scope_spans.add().spans.extend(spans)
    return ExportTraceServiceRequest(resource_spans=[rs])
