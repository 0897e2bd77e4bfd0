"""Report OpenTelemetry GenAI spans as Generation events: a span exporter for providers whose
services already trace their model calls (the ``otel`` extra: ``pip install
'./sdk/python[otel]'``). Add it to the tracer provider beside your own exporters:

    provider.add_span_processor(BatchSpanProcessor(GenerationExporter(reporter, "acme-chat")))

Spans with ``gen_ai.operation.name`` and ``gen_ai.request.model`` become events as
``jianguan_sdk.otel_mapping`` says; other spans are left alone. Each event goes through the
reporter (checked, sealed, spooled, delivered with retries); a span that cannot become a valid
event is logged and counted in ``refused``, never sent, and stops nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from jianguan_sdk.otel_mapping import SpanView, generation_of, is_generation
from jianguan_sdk.pseudonym import Pseudonymizer
from jianguan_sdk.sync import Reporter

log = logging.getLogger(__name__)

__all__ = ["GenerationExporter"]


class GenerationExporter(SpanExporter):
    """``service``: the jianguan service the spans belong to, or a function of the span (e.g.
    of its resource's ``service.name``). ``pseudonymizer`` turns ``enduser.id`` into a
    reference (without one, a span carrying ``enduser.id`` is refused: Art. 11)."""

    def __init__(
        self,
        reporter: Reporter,
        service: str | Callable[[ReadableSpan], str],
        pseudonymizer: Pseudonymizer | None = None,
    ) -> None:
        self._reporter = reporter
        self._service = service
        self._pseudonymizer = pseudonymizer
        self.reported = 0
        self.refused = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        for span in spans:
            view = _view(span)
            if view is None or not is_generation(view):
                continue
            service = self._service if isinstance(self._service, str) else self._service(span)
            try:
                self._reporter.report(service, generation_of(view, self._pseudonymizer))
            except ValueError as exc:  # SpanNotReported, InvalidEvent, a builder's refusal
                self.refused += 1
                log.warning("span %r (%s) not reported: %s", span.name, view.span_id, exc)
                continue
            self.reported += 1
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        try:
            self._reporter.flush(timeout_millis / 1000)
        except TimeoutError:
            return False
        return True

    def shutdown(self) -> None:
        """The reporter is the caller's: it stays open."""


def _view(span: ReadableSpan) -> SpanView | None:
    context = span.context
    if context is None or span.start_time is None or span.end_time is None:
        return None
    return SpanView(
        span.name,
        dict(span.attributes or {}),
        span.start_time,
        span.end_time,
        context.trace_id,
        context.span_id,
    )
