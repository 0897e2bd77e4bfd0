"""The Ingest service: authenticate, then hand each batch to the shared ingest pipeline. Thin by
design; the decisions are in jianguan.ingest."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import grpc

from jianguan import metrics
from jianguan.contracts import pb
from jianguan.gateway.credentials import MALFORMED, bearer_token
from jianguan.ingest.pipeline import IngestPipeline
from jianguan.ingest.registry import Provider, ProviderRegistry

log = logging.getLogger(__name__)
_STATUS_NAMES = {
    v.number: v.name.removeprefix("ITEM_STATUS_") for v in pb.ItemStatus.DESCRIPTOR.values
}
MAX_BATCH_EVENTS = 10_000
MAX_IN_FLIGHT_PER_STREAM = 16
Context = grpc.aio.ServicerContext[bytes, pb.BatchAck]


class IngestServicer:
    def __init__(
        self,
        registry: ProviderRegistry,
        pipeline: IngestPipeline,
    ) -> None:
        self._registry = registry
        self._pipeline = pipeline

    # -- authentication ----------------------------------------------------------------------
    async def _identify(self, context: Context) -> Provider:
        """The caller's provider, from its client certificate (verified by the TLS layer against
        the provider CA) and/or its bearer token. When both are present they must agree."""
        token = bearer_token(context)
        if token == MALFORMED:
            await self._refuse(context, "malformed", "authorization must be 'Bearer <token>'")
        by_token = by_cert = None
        if token:
            by_token = self._registry.by_token(token)
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
        return await self._pipeline.handle(provider, request)

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
                await acks.put(await self._pipeline.handle(provider, raw))
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
