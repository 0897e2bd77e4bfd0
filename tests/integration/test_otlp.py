"""The gateway's OTLP/gRPC trace receiver, against a real gateway, broker and store: a provider's
OpenTelemetry exporter (the real one, opentelemetry-exporter-otlp-proto-grpc) reports its GenAI
spans as Generation events, sealed by the gateway into a chain of its own, each span stored once
however often it is exported, other spans passed over, a span that cannot be reported refused
alone with its reason."""

from __future__ import annotations

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from jianguan.contracts import pb
from tests.integration.conftest import TOKENS, Spine, verified_chains
from tests.otlp import export_request, genai_span

pytestmark = pytest.mark.integration
ACME_CHAT = {"service.name": "acme-chat"}  # the resource of the exports


def _export(
    spine: Spine, request: trace_service_pb2.ExportTraceServiceRequest, token: str
) -> trace_service_pb2.ExportTraceServiceResponse:
    async def call() -> trace_service_pb2.ExportTraceServiceResponse:
        async with grpc.aio.insecure_channel(spine.target) as channel:
            stub = trace_service_pb2_grpc.TraceServiceStub(channel)
            return await stub.Export(request, metadata=(("authorization", f"Bearer {token}"),))

    return spine.loop.run(call())


def _chain_rows(spine: Spine) -> list[tuple[str, str, int, str]]:
    return [
        (r[0], r[1], int(r[2]), r[3])
        for r in spine.query(
            "SELECT service_id, stream_id, sequence, event_id FROM events"
            " WHERE service_id = 'acme-chat' ORDER BY sequence"
        )
    ]


def test_genai_spans_are_stored_once_sealed_into_the_gateways_chain(spine: Spine) -> None:
    token = TOKENS["acme-ai"]
    plain = Span(trace_id=b"\x09" * 16, span_id=b"\x09" * 8, name="GET /health")
    raw_user = genai_span(7, **{"enduser.id": "13800000000"})  # a raw id: never stored (Art. 11)
    first = export_request(
        ACME_CHAT, [genai_span(0), plain, genai_span(1), raw_user, genai_span(2)]
    )
    answer = _export(spine, first, token)
    assert answer.partial_success.rejected_spans == 1
    assert "enduser.id" in answer.partial_success.error_message
    assert "13800000000" not in answer.partial_success.error_message
    # An exporter's retry of the same request: each span is stored once all the same.
    again = _export(spine, first, token)
    assert again.partial_success.rejected_spans == 1
    later = _export(spine, export_request(ACME_CHAT, [genai_span(3), genai_span(4)]), token)
    assert later.partial_success.rejected_spans == 0
    spine.barrier("acme-ai")
    rows = _chain_rows(spine)  # raw rows, never through FINAL: a row stored twice shows
    stream = spine.gateway.otlp.stream_id
    assert stream.startswith("otlp.")
    assert [(r[0], r[1], r[2]) for r in rows] == [("acme-chat", stream, n) for n in range(1, 6)]
    assert [r[3] for r in rows] == [
        f"otel-{bytes([n + 1]).hex() * 16}-{bytes([n + 1]).hex() * 8}" for n in (0, 1, 2, 3, 4)
    ]
    # The event keeps the trace: a regulator can ask the provider for it.
    payload = spine.query("SELECT payload FROM events WHERE event_id = %(e)s", {"e": rows[0][3]})[
        0
    ][0]
    event = pb.Event.FromString(
        payload if isinstance(payload, bytes) else payload.encode("latin-1")
    )
    assert event.generation.trace_id == "01" * 16
    assert event.generation.span_id == "01" * 8
    assert event.generation.input_tokens == 100
    assert spine.stored() == 5 + 1  # and the barrier's marker
    assert f"acme-ai/acme-chat@{stream}: intact" in verified_chains(spine.url)


def test_a_real_opentelemetry_exporter_reports_through_the_receiver(spine: Spine) -> None:
    exporter = OTLPSpanExporter(
        endpoint=spine.target,
        insecure=True,
        headers={"authorization": f"Bearer {TOKENS['beta-ai']}"},
    )
    provider = TracerProvider(resource=Resource.create({"service.name": "beta-chat"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("beta")
    for i in range(3):
        with tracer.start_as_current_span("chat acme-chat-3") as span:
            span.set_attribute("gen_ai.operation.name", "chat")
            span.set_attribute("gen_ai.request.model", "beta-chat-1")
            span.set_attribute("gen_ai.usage.output_tokens", i)
            span.set_attribute("jianguan.user_ref", "u_0123456789abcdef")
        with tracer.start_as_current_span("db query"):
            pass  # not a GenAI span: passed over
    provider.shutdown()
    spine.barrier("beta-ai")
    rows = spine.query(
        "SELECT sequence, event_id FROM events WHERE provider_id = 'beta-ai'"
        " AND service_id = 'beta-chat' ORDER BY sequence"
    )
    assert [int(r[0]) for r in rows] == [1, 2, 3]
    assert all(r[1].startswith("otel-") for r in rows)


def test_a_wrong_token_is_refused(spine: Spine) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        _export(spine, export_request(ACME_CHAT, [genai_span(0)]), "not-a-token")
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert spine.stored() == 0


def test_a_resource_without_a_service_is_refused_span_by_span(spine: Spine) -> None:
    answer = _export(spine, export_request({}, [genai_span(0), genai_span(1)]), TOKENS["acme-ai"])
    assert answer.partial_success.rejected_spans == 2
    assert "service.name" in answer.partial_success.error_message
