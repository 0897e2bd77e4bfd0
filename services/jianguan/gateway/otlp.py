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
from jianguan.gateway.servicer import AnyContext, IngestServicer
from jianguan.ingest import otlp_spans
from jianguan.ingest.admission import Admission
from jianguan.ingest.chain_book import ChainBook
from jianguan.ingest.pipeline import IngestPipeline
from jianguan_sdk.chain import Chain

TRACE_SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"
BATCH = 1_000
MAX_REASONS = 5
_S = pb.ingest_pb2
Key = tuple[str, str]  # (provider, service)
Answer = tuple[int, str]  # (item status, reason)
RETRY = frozenset({_S.ITEM_STATUS_UNAVAILABLE, _S.ITEM_STATUS_RATE_LIMITED})
STORED = frozenset({_S.ITEM_STATUS_ACCEPTED, _S.ITEM_STATUS_DUPLICATE})


class OtlpTraceServicer:
    def __init__(
        self,
        ingest: IngestServicer,
        pipeline: IngestPipeline,
        chains: ChainBook,
        admission: Admission,
        stream_id: str = "otlp",
    ) -> None:
        self._ingest = ingest
        self._pipeline = pipeline
        self._chains = chains
        self._admission = admission
        self.stream_id = stream_id
        self._locks: defaultdict[Key, asyncio.Lock] = defaultdict(asyncio.Lock)
        # Per chain, the events sealed and sent whose fate the event log has not confirmed, in
        # chain order: sent again, byte for byte, before anything new is sealed (see _take).
        self._unconfirmed: dict[Key, list[pb.event_pb2.Event]] = {}

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
        for item in reading.events:
            by_service[item.service_id].append(item.event)
        again = False
        for service_id in sorted(by_service):
            events = _once(by_service[service_id])
            for start in range(0, len(events), BATCH):
                chunk = events[start : start + BATCH]
                answers = await self._take(provider, service_id, chunk, context)
                for event in chunk:
                    status, reason = answers[event.envelope.event_id]
                    if status in RETRY:
                        again = True
                    elif status in STORED:
                        metrics.GATEWAY_OTLP_SPANS.labels(
                            "stored" if status == _S.ITEM_STATUS_ACCEPTED else "stored_before"
                        ).inc()
                    else:
                        refused.append(reason)
                        metrics.GATEWAY_OTLP_SPANS.labels("refused").inc()
        if again:
            await context.abort(
                grpc.StatusCode.UNAVAILABLE,
                "some spans are not stored yet (the event log did not confirm them); retry",
            )
        response = ExportTraceServiceResponse()
        if refused:
            response.partial_success.rejected_spans = len(refused)
            more = len(refused) - MAX_REASONS
            response.partial_success.error_message = "; ".join(refused[:MAX_REASONS]) + (
                f"; and {more} more" if more > 0 else ""
            )
        return response

    async def _take(
        self,
        provider: Provider,
        service_id: str,
        events: list[pb.event_pb2.Event],
        context: AnyContext,
    ) -> dict[str, Answer]:
        """Seal the events into the service's chain of this process and take them as one batch:
        (status, reason) by event id.

        While some of the chain's events are unconfirmed (the event log had not answered for
        them), those are sent again first, unchanged, and nothing new is sealed: an event stored
        late is then answered DUPLICATE and the chain's head moves past it, where sealing the
        span again would have put two events at one sequence number."""
        key = (provider.id, service_id)
        async with self._locks[key]:
            if not await self._pipeline.catch_up():
                await context.abort(
                    grpc.StatusCode.UNAVAILABLE, "where the chains stand cannot be read yet; retry"
                )
            head = self._chains.head(provider.id, service_id, self.stream_id)
            unconfirmed = [
                e for e in self._unconfirmed.get(key, []) if e.envelope.sequence > head.sequence
            ]
            if unconfirmed and unconfirmed[0].envelope.sequence != head.sequence + 1:
                unconfirmed = []  # the chain moved on otherwise: they are not its next events
            answers: dict[str, Answer] = {}
            batch = pb.EventBatch(batch_id=f"otlp-{uuid.uuid4().hex}", events=unconfirmed)
            if unconfirmed:
                waiting = "an earlier export of this service is not stored yet; retry"
                for event in events:
                    answers[event.envelope.event_id] = (_S.ITEM_STATUS_UNAVAILABLE, waiting)
            else:
                chain = Chain(service_id, head.sequence, head.hash, self.stream_id)
                for event in events:
                    event_id = event.envelope.event_id
                    known = self._admission.known(provider.id, event_id)
                    if known is None:
                        answers[event_id] = (_S.ITEM_STATUS_UNAVAILABLE, "in doubt; retry")
                    elif known:
                        # stored before (an exporter's retry): sealed again, it would be stored
                        # twice
                        answers[event_id] = (_S.ITEM_STATUS_DUPLICATE, "")
                    else:
                        sealed = batch.events.add()
                        sealed.CopyFrom(event)
                        chain.seal(sealed)
            if not batch.events:
                self._unconfirmed.pop(key, None)
                return answers
            # (kept until the batch is answered: a call refused before that leaves them as
            # they were, for the next export)
            ack = await self._ingest.take(provider, batch.SerializeToString(), context, False)
            results = {r.index: r for r in ack.results}
            later = min((r.index for r in ack.results if r.status in RETRY), default=None)
            if later is None:
                self._unconfirmed.pop(key, None)
            else:
                self._unconfirmed[key] = list(batch.events[later:])
        for i, event in enumerate(batch.events):
            r = results.get(i)
            answers[event.envelope.event_id] = (
                (_S.ITEM_STATUS_ACCEPTED, "")
                if r is None
                else (int(r.status), f"{r.event_id}: {r.field_path}: {r.reason}")
            )
        return answers


def _once(events: list[pb.event_pb2.Event]) -> list[pb.event_pb2.Event]:
    """The events with distinct ids, first of each kept (a span exported twice in one request)."""
    seen: set[str] = set()
    out = []
    for event in events:
        if event.envelope.event_id not in seen:
            seen.add(event.envelope.event_id)
            out.append(event)
    return out
