"""The Ingest service: authenticate, admit, produce, acknowledge. Thin by design; the decisions
are in jianguan.ingest.admission."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Protocol

import grpc
from google.protobuf.message import DecodeError

from jianguan import metrics
from jianguan.contracts import pb
from jianguan.ingest.admission import Admission, Admitted, Rejection
from jianguan.ingest.registry import Provider, ProviderRegistry

log = logging.getLogger(__name__)
_STATUS_NAMES = {
    v.number: v.name.removeprefix("ITEM_STATUS_") for v in pb.ItemStatus.DESCRIPTOR.values
}
MAX_BATCH_EVENTS = 10_000
MAX_IN_FLIGHT_PER_STREAM = 16
Context = grpc.aio.ServicerContext[bytes, pb.BatchAck]


class Publisher(Protocol):
    async def publish(
        self, provider_id: str, service_id: str, payload: bytes, received_ms: int
    ) -> bool: ...


class IngestServicer:
    def __init__(
        self,
        registry: ProviderRegistry,
        admission: Admission,
        publisher: Publisher,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._registry = registry
        self._admission = admission
        self._publisher = publisher
        self._now = now

    # -- authentication ----------------------------------------------------------------------
    async def _identify(self, context: Context) -> Provider:
        """The caller's provider, from its client certificate (verified by the TLS layer against
        the provider CA) and/or its bearer token. When both are present they must agree."""
        token = ""
        for key, value in context.invocation_metadata() or ():
            if key == "authorization":
                scheme, _, token = str(value).partition(" ")
                if scheme.lower() != "bearer" or not token.strip():
                    await self._refuse(
                        context, "malformed", "authorization must be 'Bearer <token>'"
                    )
                break
        by_token = by_cert = None
        if token:
            by_token = self._registry.by_token(token.strip())
            if by_token is None:
                await self._refuse(context, "unknown_token", "unknown or revoked token")
        subjects = [s.decode() for s in context.auth_context().get("x509_common_name", [])]
        if subjects:
            by_cert = next(filter(None, map(self._registry.by_subject, subjects)), None)
            if by_cert is None and by_token is None:
                await self._refuse(
                    context,
                    "unknown_subject",
                    "the client certificate names no registered provider",
                )
        if by_token is not None and by_cert is not None and by_token.id != by_cert.id:
            await self._refuse(
                context, "mismatch", "the token and the client certificate name different providers"
            )
        provider = by_cert or by_token
        if provider is None:
            await self._refuse(
                context,
                "missing",
                "no credential: send 'authorization: Bearer <token>'"
                " or a registered client certificate",
            )
        assert provider is not None
        return provider

    async def _refuse(self, context: Context, reason: str, message: str) -> None:
        metrics.GATEWAY_AUTH_FAILURES.labels(reason).inc()
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    # -- RPCs --------------------------------------------------------------------------------
    async def publish_batch(self, request: bytes, context: Context) -> pb.BatchAck:
        provider = await self._identify(context)
        metrics.GATEWAY_BATCHES.labels("PublishBatch").inc()
        return await self._handle(provider, request)

    async def publish(
        self, requests: AsyncIterator[bytes], context: Context
    ) -> AsyncIterator[pb.BatchAck]:
        """Several batches in flight per stream; each ack is sent as soon as its batch settles."""
        provider = await self._identify(context)
        acks: asyncio.Queue[pb.BatchAck | None] = asyncio.Queue()
        slots = asyncio.Semaphore(MAX_IN_FLIGHT_PER_STREAM)
        pending: set[asyncio.Task[None]] = set()

        async def one(raw: bytes) -> None:
            try:
                await acks.put(await self._handle(provider, raw))
            finally:
                slots.release()

        async def read() -> None:
            try:
                async for raw in requests:
                    metrics.GATEWAY_BATCHES.labels("Publish").inc()
                    await slots.acquire()
                    task = asyncio.create_task(one(raw))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                if pending:
                    await asyncio.gather(*list(pending))
            finally:
                await acks.put(None)

        reader = asyncio.create_task(read())
        try:
            while (ack := await acks.get()) is not None:
                yield ack
            await reader
        finally:
            reader.cancel()
            for task in list(pending):
                task.cancel()

    # -- one batch ---------------------------------------------------------------------------
    async def _handle(self, provider: Provider, raw: bytes) -> pb.BatchAck:
        started = time.perf_counter()
        now = self._now()
        try:
            batch = pb.EventBatch.FromString(raw)
        except DecodeError as exc:
            metrics.GATEWAY_ITEMS.labels(provider.id, "INVALID").inc()
            return pb.BatchAck(
                results=[
                    pb.ItemResult(
                        status=pb.ingest_pb2.ITEM_STATUS_INVALID,
                        reason=f"the message is not a valid jianguan.v1.EventBatch: {exc}",
                    )
                ]
            )
        if len(batch.events) > MAX_BATCH_EVENTS:
            return self._refuse_all(
                provider,
                batch,
                f"the batch holds {len(batch.events)} events; the limit is {MAX_BATCH_EVENTS}",
            )
        admitted = self._admission.admit(provider.policy, batch, raw, now)
        rejections = list(admitted.rejections)
        accepted = await self._produce(provider, admitted, rejections, int(now * 1000))
        metrics.GATEWAY_BATCH_SECONDS.observe(time.perf_counter() - started)
        return _ack(provider.id, admitted.batch_id, admitted.received, accepted, rejections)

    async def _produce(
        self, provider: Provider, admitted: Admitted, rejections: list[Rejection], received_ms: int
    ) -> int:
        groups = admitted.groups
        if not groups:
            return 0
        results = await asyncio.gather(
            *(
                self._publisher.publish(provider.id, g.service_id, g.payload, received_ms)
                for g in groups
            )
        )
        accepted = 0
        for group, stored in zip(groups, results, strict=True):
            if stored:
                accepted += len(group.indices)
            else:
                metrics.GATEWAY_PRODUCE_FAILURES.inc()
            rejections.extend(self._admission.settle(provider.id, group, stored))
        return accepted

    def _refuse_all(self, provider: Provider, batch: pb.EventBatch, reason: str) -> pb.BatchAck:
        rejections = [
            Rejection(i, ev.envelope.event_id, pb.ingest_pb2.ITEM_STATUS_INVALID, "events", reason)
            for i, ev in enumerate(batch.events)
        ]
        return _ack(provider.id, batch.batch_id, len(batch.events), 0, rejections)


def _ack(
    provider_id: str, batch_id: str, received: int, accepted: int, rejections: list[Rejection]
) -> pb.BatchAck:
    if accepted:
        metrics.GATEWAY_ITEMS.labels(provider_id, "ACCEPTED").inc(accepted)
    ack = pb.BatchAck(batch_id=batch_id, received=received, accepted=accepted)
    if rejections:
        rejections.sort(key=lambda r: r.index)
        counts: dict[int, int] = {}
        for r in rejections:
            counts[r.status] = counts.get(r.status, 0) + 1
            ack.results.add(
                index=r.index,
                event_id=r.event_id,
                status=r.status,
                field_path=r.field_path,
                reason=r.reason,
            )
        for status, count in counts.items():
            metrics.GATEWAY_ITEMS.labels(provider_id, _STATUS_NAMES[status]).inc(count)
    return ack
