"""The span exporter: a service's traced model calls reach the gateway as Generation events,
other spans stay out, a bad span is refused alone."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from fake_gateway import TOKEN, FakeGateway, served
from jianguan_sdk.otel import GenerationExporter
from jianguan_sdk.sync import Reporter


def test_traced_model_calls_are_reported_and_nothing_else(tmp_path: Path) -> None:
    gateway = FakeGateway()
    with served(gateway) as target, Reporter(target, token=TOKEN, spool_dir=tmp_path) as reporter:
        exporter = GenerationExporter(reporter, "acme-chat")
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracer = provider.get_tracer("acme")
        with tracer.start_as_current_span("handle request"):  # not a model call
            with tracer.start_as_current_span("chat acme-chat-3") as call:
                call.set_attribute("gen_ai.operation.name", "chat")
                call.set_attribute("gen_ai.request.model", "acme-chat-3")
                call.set_attribute("gen_ai.usage.output_tokens", 42)
                call.set_attribute("jianguan.explicit_label", True)
                traced = call.get_span_context()
            with tracer.start_as_current_span("chat acme-chat-3") as bad:
                bad.set_attribute("gen_ai.operation.name", "chat")
                bad.set_attribute("gen_ai.request.model", "acme-chat-3")
                bad.set_attribute("enduser.id", "someone@example.cn")  # raw, no pseudonymizer
        assert exporter.force_flush(30_000)
        provider.shutdown()
        assert (exporter.reported, exporter.refused) == (1, 1)
    (event,) = gateway.stored.values()
    g = event.generation
    assert (g.trace_id, g.span_id) == (f"{traced.trace_id:032x}", f"{traced.span_id:016x}")
    assert (g.request_model, g.output_tokens, g.explicit_label) == ("acme-chat-3", 42, True)
    assert (event.envelope.service_id, event.envelope.sequence) == ("acme-chat", 1)
