"""OpenTelemetry GenAI spans → Generation events. Pure: no OpenTelemetry import (the exporter in
``jianguan_sdk.otel`` and the gateway's OTLP receiver give spans in this neutral form).

A span is a generation when it has ``gen_ai.operation.name`` and ``gen_ai.request.model`` (the
OpenTelemetry GenAI semantic conventions). Read from it:

- ``gen_ai.operation.name`` (chat, text_completion, generate_content, embeddings, invoke_agent,
  execute_tool) → operation_name;
- ``gen_ai.request.model``, ``gen_ai.response.model`` → request_model, response_model;
- ``gen_ai.usage.input_tokens``, ``gen_ai.usage.output_tokens`` → input_tokens, output_tokens;
- ``gen_ai.output.type`` (text, json, image, speech), or ``jianguan.output.type`` (also video,
  virtual_scene) → output_type (text when neither is set);
- ``gen_ai.response.finish_reasons`` (stop, length, content_filter, tool_calls, error) →
  finish_reasons;
- the span's end minus its start → latency_ms; its end → envelope.occurred_at;
- its trace and span ids → trace_id, span_id, and the event id ``otel-<trace>-<span>`` (a span
  exported twice is stored once).

The labels of Art. 12 and the Labeling Measures have no OpenTelemetry names; a provider sets them
on the span as ``jianguan.explicit_label``, ``jianguan.explicit_label_waived`` (bools),
``jianguan.implicit_label`` (generated, possibly, suspected), ``jianguan.content_producer``,
``jianguan.produce_id``, and ``jianguan.minor_mode`` (bool). The user: ``jianguan.user_ref`` (a
pseudonymous reference), or ``enduser.id`` (OpenTelemetry's, a raw id) turned into a reference
with the provider's ``Pseudonymizer``: a raw id never leaves the provider (Art. 11), and a span
with ``enduser.id`` and no pseudonymizer is refused (``SpanNotReported``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jianguan_sdk import builders, pb
from jianguan_sdk.pseudonym import Pseudonymizer

_OPERATIONS = {
    "chat": "chat",
    "text_completion": "text_completion",
    "generate_content": "generate_content",
    "embeddings": "embeddings",
    "invoke_agent": "invoke_agent",
    "execute_tool": "execute_tool",
}
_OUTPUTS = {
    "text": "text",
    "json": "json",
    "image": "image",
    "speech": "audio",
    "audio": "audio",
    "video": "video",
    "virtual_scene": "virtual_scene",
}
_FINISH = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
    "error": "error",
}


class SpanNotReported(ValueError):
    """A GenAI span that cannot become an event as it is (the reason names the attribute)."""


@dataclass(frozen=True, slots=True)
class SpanView:
    """What the mapping reads of a span, whatever carried it (the SDK's spans, OTLP)."""

    name: str
    attributes: Mapping[str, Any]
    start_ns: int
    end_ns: int
    trace_id: int
    span_id: int


def is_generation(span: SpanView) -> bool:
    return "gen_ai.operation.name" in span.attributes and "gen_ai.request.model" in span.attributes


def generation_of(span: SpanView, pseudonymizer: Pseudonymizer | None = None) -> pb.event_pb2.Event:
    """The Generation event a GenAI span says (raises ``SpanNotReported`` or the builders'
    ``ValueError`` naming what is wrong)."""
    a = span.attributes
    operation = str(a["gen_ai.operation.name"])
    if operation not in _OPERATIONS:
        raise SpanNotReported(
            f"gen_ai.operation.name {operation!r} is none of: {', '.join(_OPERATIONS)}"
        )
    output = a.get("jianguan.output.type", a.get("gen_ai.output.type", "text"))
    if str(output) not in _OUTPUTS:
        raise SpanNotReported(f"the output type {output!r} is none of: {', '.join(_OUTPUTS)}")
    reasons: Sequence[Any] = a.get("gen_ai.response.finish_reasons", ()) or ()
    unknown = [r for r in reasons if str(r) not in _FINISH]
    if unknown:
        allowed = ", ".join(_FINISH)
        raise SpanNotReported(f"gen_ai.response.finish_reasons {unknown!r}: use {allowed}")
    trace, spanid = f"{span.trace_id:032x}", f"{span.span_id:016x}"
    implicit = None
    if "jianguan.implicit_label" in a:
        implicit = {
            "label": str(a["jianguan.implicit_label"]),
            "content_producer": _text(a.get("jianguan.content_producer")),
            "produce_id": _text(a.get("jianguan.produce_id")),
        }
    return builders.generation(
        operation_name=_OPERATIONS[operation],
        request_model=str(a["gen_ai.request.model"]),
        response_model=_text(a.get("gen_ai.response.model")),
        input_tokens=_count(a, "gen_ai.usage.input_tokens"),
        output_tokens=_count(a, "gen_ai.usage.output_tokens"),
        output_type=_OUTPUTS[str(output)],
        finish_reasons=[_FINISH[str(r)] for r in reasons],
        user_ref=_user_ref(a, pseudonymizer),
        minor_mode=_flag(a, "jianguan.minor_mode"),
        explicit_label=_flag(a, "jianguan.explicit_label"),
        explicit_label_waived=_flag(a, "jianguan.explicit_label_waived"),
        implicit_label=implicit,
        latency_ms=max(0, (span.end_ns - span.start_ns) // 1_000_000),
        trace_id=trace,
        span_id=spanid,
        event_id=f"otel-{trace}-{spanid}",
        occurred_at=span.end_ns / 1e9,
    )


def _user_ref(a: Mapping[str, Any], pseudonymizer: Pseudonymizer | None) -> str | None:
    if "jianguan.user_ref" in a:
        return str(a["jianguan.user_ref"])
    if "enduser.id" not in a:
        return None
    if pseudonymizer is None:
        raise SpanNotReported(
            "enduser.id is a raw user id: give the exporter a Pseudonymizer (Art. 11), or set"
            " jianguan.user_ref"
        )
    return pseudonymizer.ref(str(a["enduser.id"]))


def _flag(a: Mapping[str, Any], name: str) -> bool | None:
    return None if name not in a else bool(a[name])


def _count(a: Mapping[str, Any], name: str) -> int | None:
    return None if name not in a else int(a[name])


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
