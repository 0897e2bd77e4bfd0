"""OTLP exports → Generation events (ingest.otlp_spans), and the OTLP chain's stream name."""

from __future__ import annotations

from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from jianguan.gateway.server import otlp_stream
from jianguan.ingest.otlp_spans import read, value_of
from jianguan_sdk.validation import IDENTIFIER
from tests.otlp import export_request, kv

GENAI = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m-1"}


def _span(n: int, attributes: dict[str, str | int]) -> Span:
    return Span(
        trace_id=bytes([n]) * 16,
        span_id=bytes([n]) * 8,
        name=f"s{n}",
        start_time_unix_nano=10**18,
        end_time_unix_nano=10**18 + 250_000_000,
        attributes=[kv(k, v) for k, v in attributes.items()],
    )


def test_genai_spans_become_events_of_the_resources_service() -> None:
    reading = read(
        export_request(
            {"service.name": "chat-app"},
            [
                _span(1, GENAI),
                _span(2, {"http.route": "/health"}),
                _span(3, {**GENAI, "gen_ai.usage.input_tokens": 7}),
            ],
        )
    )
    assert reading.passed_over == 1
    assert reading.refused == []
    assert [e.service_id for e in reading.events] == ["chat-app", "chat-app"]
    ev = reading.events[1].event
    assert ev.envelope.event_id == f"otel-{'03' * 16}-{'03' * 8}"
    assert ev.generation.input_tokens == 7
    assert ev.generation.latency_ms == 250
    assert ev.generation.trace_id == "03" * 16


def test_jianguan_service_id_names_the_service_before_service_name() -> None:
    reading = read(
        export_request(
            {"service.name": "svc a", "jianguan.service_id": "chat-app"}, [_span(1, GENAI)]
        )
    )
    assert [e.service_id for e in reading.events] == ["chat-app"]


def test_a_span_that_cannot_be_reported_is_refused_alone_with_its_reason() -> None:
    reading = read(
        export_request(
            {"service.name": "chat-app"},
            [
                _span(1, {**GENAI, "enduser.id": "alice"}),
                _span(2, {**GENAI, "gen_ai.operation.name": "dance"}),
                _span(3, GENAI),
            ],
        )
    )
    assert len(reading.events) == 1
    assert len(reading.refused) == 2
    assert "enduser.id" in reading.refused[0]
    assert "alice" not in reading.refused[0]
    assert "dance" in reading.refused[1]


def test_a_service_that_is_no_identifier_is_refused() -> None:
    for resource in ({}, {"service.name": "chat app"}, {"service.name": "x" * 65}):
        reading = read(export_request(resource, [_span(1, GENAI)]))
        assert reading.events == [], resource
        assert len(reading.refused) == 1, resource


def test_attribute_values_of_every_kind() -> None:
    array = AnyValue()
    array.array_value.values.extend([AnyValue(string_value="stop"), AnyValue(int_value=2)])
    assert value_of(array) == ["stop", 2]
    assert value_of(AnyValue(bool_value=True)) is True
    assert value_of(AnyValue(double_value=0.5)) == 0.5
    assert value_of(AnyValue()) is None


def test_the_otlp_stream_is_an_identifier_of_at_most_64() -> None:
    assert otlp_stream("gw-1", 4317) == "otlp.gw-1-4317"
    long = otlp_stream("ä" * 100 + " host", 65535)
    assert len(long) <= 64
    assert IDENTIFIER.fullmatch(long)
    assert long.endswith("-65535")
