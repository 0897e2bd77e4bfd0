"""The OTLP/gRPC trace receiver: a provider points an existing OpenTelemetry collector at the
gateway (``opentelemetry.proto.collector.trace.v1.TraceService/Export``, the same port and
credentials as ingest: ``authorization: Bearer <token>`` in the exporter's headers, or a client
certificate), and its GenAI spans become Generation events (``ingest.otlp_spans``).

A collector knows nothing of chains, so the gateway seals the events itself, into one chain per
service in a stream of this process's own (``otlp.<host>-<port>``): such a chain proves what the
platform received and in what order, not what the provider emitted (a provider that wants that
seals with an SDK). One process seals a chain's events one export at a time, continuing from the
head the chain book records, so a restarted process continues its chains.

Answers, as OTLP asks: every span stored (or stored before) → success; spans refused for good
(not reportable, or refused at admission) → success with ``partial_success`` counting them and
saying the first reasons; anything the event log has not confirmed → UNAVAILABLE, which
exporters retry, and the retry skips the spans already stored (event ids come from the trace and
span ids, so a span is stored once however often it is sent).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict

import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from jianguan import metrics
from jianguan.accounts.registry import Provider
from jianguan.contracts import pb
from jianguan.domain.dedup import RecentIds
from jianguan.gateway.servicer import AnyContext, IngestServicer
from jianguan.ingest import otlp_spans
from jianguan.ingest.chain_book import ChainBook
from jianguan.ingest.pipeline import IngestPipeline
from jianguan_sdk.chain import Chain

log = logging.getLogger(__name__)
TRACE_SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"
BATCH = 1_000
MAX_REASONS = 5
_S = pb.ingest_pb2
RETRY = frozenset({_S.ITEM_STATUS_UNAVAILABLE, _S.ITEM_STATUS_RATE_LIMITED})
STORED = frozenset({_S.ITEM_STATUS_ACCEPTED, _S.ITEM_STATUS_DUPLICATE})


class OtlpTraceServicer:
    def __init__(
        self,
        ingest: IngestServicer,
        pipeline: IngestPipeline,
        chains: ChainBook,
        dedup: RecentIds,
        stream_id: str = "otlp",
    ) -> None:
        self._ingest = ingest
        self._pipeline = pipeline
        self._chains = chains
        self._dedup = dedup
        self.stream_id = stream_id
        self._locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)

    async def export(
        self, request: ExportTraceServiceRequest, context: AnyContext
    ) -> ExportTraceServiceResponse:
        provider = await self._ingest.identify(context)
        metrics.GATEWAY_BATCHES.labels("OtlpExport").inc()
        reading = otlp_spans.read(request)
        metrics.GATEWAY_OTLP_SPANS.labels("passed_over").inc(reading.passed_over)
        metrics.GATEWAY_OTLP_SPANS.labels("refused").inc(len(reading.refused))
        refused = list(reading.refused)
        by_service: dict[str, list[pb.event_pb2.Event]] = defaultdict(list)
        seen: set[str] = set()
        for item in reading.events:
            event_id = item.event.envelope.event_id
            if event_id in seen or (provider.id, event_id) in self._dedup:
                metrics.GATEWAY_OTLP_SPANS.labels("stored_before").inc()
                continue  # stored before (an exporter's retry): sealing it again would fork
            seen.add(event_id)
            by_service[item.service_id].append(item.event)
        again = False
        for service_id in sorted(by_service):
            events = by_service[service_id]
            for start in range(0, len(events), BATCH):
                answers = await self._seal_and_take(
                    provider, service_id, events[start : start + BATCH], context
                )
                for status, reason in answers:
                    if status in RETRY:
                        again = True
                    elif status not in STORED:
                        refused.append(reason)
                        metrics.GATEWAY_OTLP_SPANS.labels("refused").inc()
                    else:
                        metrics.GATEWAY_OTLP_SPANS.labels("stored").inc()
        if again:
            await context.abort(
                grpc.StatusCode.UNAVAILABLE,
                "some spans are not stored yet (the event log did not confirm them); retry",
            )
        response = ExportTraceServiceResponse()
        if refused:
            response.partial_success.rejected_spans = len(refused)
            shown = "; ".join(refused[:MAX_REASONS])
            more = len(refused) - MAX_REASONS
            response.partial_success.error_message = shown + (
                f"; and {more} more" if more > 0 else ""
            )
        return response

    async def _seal_and_take(
        self,
        provider: Provider,
        service_id: str,
        events: list[pb.event_pb2.Event],
        context: AnyContext,
    ) -> list[tuple[int, str]]:
        """Seal the events into the service's chain of this process and take them as one batch;
        (status, reason) per event."""
        async with self._locks[(provider.id, service_id)]:
            if not await self._pipeline.catch_up():
                await context.abort(
                    grpc.StatusCode.UNAVAILABLE, "where the chains stand cannot be read yet; retry"
                )
            head = self._chains.head(provider.id, service_id, self.stream_id)
            chain = Chain(service_id, head.sequence, head.hash, self.stream_id)
            batch = pb.EventBatch(batch_id=f"otlp-{uuid.uuid4().hex}")
            for event in events:
                sealed = batch.events.add()
                sealed.CopyFrom(event)
                chain.seal(sealed)
            ack = await self._ingest.take(provider, batch.SerializeToString(), context, False)
        answers = {
            r.index: (int(r.status), f"{r.event_id}: {r.field_path}: {r.reason}")
            for r in ack.results
        }
        return [answers.get(i, (_S.ITEM_STATUS_ACCEPTED, "")) for i in range(len(events))]
