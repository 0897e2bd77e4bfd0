"""The Ingest service: authenticate, then hand each batch to the shared ingest pipeline. Thin by
design; the decisions are in jianguan.ingest."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc

from jianguan import metrics
from jianguan.accounts.registry import Provider
from jianguan.accounts.registry_watch import RegistrySource
from jianguan.contracts import pb
from jianguan.gateway.credentials import MALFORMED, bearer_token
from jianguan.gateway.fairness import ProviderShares, Refused, pause
from jianguan.ingest.chain_book import ChainBook
from jianguan.ingest.pipeline import IngestPipeline
from jianguan_sdk.validation import DEFAULT_LIMITS

log = logging.getLogger(__name__)
_STATUS_NAMES = {
    v.number: v.name.removeprefix("ITEM_STATUS_") for v in pb.ItemStatus.DESCRIPTOR.values
}
MAX_IN_FLIGHT_PER_STREAM = 16
_RATE_LIMITED = pb.ingest_pb2.ITEM_STATUS_RATE_LIMITED


def _rate_limited(ack: pb.BatchAck) -> bool:
    return any(r.status == _RATE_LIMITED for r in ack.results)


Context = grpc.aio.ServicerContext[bytes, pb.BatchAck]
# Authentication reads only the call's metadata and auth context, whatever the RPC.
AnyContext = grpc.aio.ServicerContext[Any, Any]


class IngestServicer:
    def __init__(
        self,
        registry: RegistrySource,
        pipeline: IngestPipeline,
        shares: ProviderShares | None = None,
        chains: ChainBook | None = None,
    ) -> None:
        self._registry = registry
        self._pipeline = pipeline
        self._chains = chains
        self.shares = shares or ProviderShares()

    # -- authentication ----------------------------------------------------------------------
    async def identify(self, context: AnyContext) -> Provider:
        """The caller's provider, from its client certificate (verified by the TLS layer against
        the provider CA) and/or its bearer token. When both are present they must agree."""
        registry = self._registry.current()  # a provider added or revoked counts at once
        token = bearer_token(context)
        if token == MALFORMED:
            await self._refuse(context, "malformed", "authorization must be 'Bearer <token>'")
        by_token = by_cert = None
        if token:
            by_token = registry.by_token(token)
            if by_token is None:
                await self._refuse(context, "unknown_token", "unknown or revoked token")
        subjects = [s.decode() for s in context.auth_context().get("x509_common_name", [])]
        if subjects:
            by_cert = next(filter(None, map(registry.by_subject, subjects)), None)
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

    async def _refuse(self, context: AnyContext, reason: str, message: str) -> None:
        metrics.GATEWAY_AUTH_FAILURES.labels(reason).inc()
        await pause(self.shares.limits.unauthenticated_delay_s)
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    # -- RPCs --------------------------------------------------------------------------------
    async def _refuse_over_bound(self, context: AnyContext, bound: str, exc: Refused) -> None:
        """RESOURCE_EXHAUSTED, after the refusal delay (``fairness``)."""
        metrics.GATEWAY_REFUSED.labels(bound).inc()
        await pause(self.shares.limits.refusal_delay_s)
        await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))

    async def _handle(self, provider: Provider, raw: bytes, fresh: bool) -> pb.BatchAck:
        """One batch in one of the provider's slots (taken by the caller), given back after."""
        rate_limited = False
        try:
            ack = await self._pipeline.handle(provider, raw, fresh)
            rate_limited = _rate_limited(ack)
            return ack
        finally:
            self.shares.release(provider.id, rate_limited)

    async def get_session(
        self, request: pb.ingest_pb2.GetSessionRequest, context: AnyContext
    ) -> pb.ingest_pb2.GetSessionResponse:
        """Whom the credential names, and what the gateway takes from that provider."""
        provider = await self.identify(context)
        return pb.ingest_pb2.GetSessionResponse(
            provider_id=provider.id,
            provider_name=provider.name,
            schema_versions=sorted(pb.SUPPORTED_SCHEMA_VERSIONS),
            rate_per_s=provider.rate_per_s,
            burst=provider.burst,
            max_event_bytes=DEFAULT_LIMITS.max_event_bytes,
            max_streams=provider.max_streams or self.shares.limits.max_streams,
        )

    async def get_chain_heads(
        self, request: pb.ingest_pb2.GetChainHeadsRequest, context: AnyContext
    ) -> pb.ingest_pb2.GetChainHeadsResponse:
        """Where the caller's chains of one stream stand, as every ingest process recorded them
        up to this call (UNAVAILABLE while they cannot be read)."""
        provider = await self.identify(context)
        if self._chains is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "no chain heads on this gateway")
        assert self._chains is not None
        if not await self._pipeline.catch_up():
            await context.abort(
                grpc.StatusCode.UNAVAILABLE, "where the chains stand cannot be read yet; retry"
            )
        services = set(request.service_ids)
        out = pb.ingest_pb2.GetChainHeadsResponse()
        for (service_id, stream_id), head in sorted(self._chains.heads(provider.id).items()):
            if stream_id != request.stream_id or (services and service_id not in services):
                continue
            out.heads.add(
                service_id=service_id,
                stream_id=stream_id,
                sequence=head.sequence,
                hash=head.hash,
                event_id=head.event_id,
            )
        return out

    async def publish_batch(self, request: bytes, context: Context) -> pb.BatchAck:
        provider = await self.identify(context)
        metrics.GATEWAY_BATCHES.labels("PublishBatch").inc()
        return await self.take(provider, request, context, fresh=True)

    async def take(
        self, provider: Provider, raw: bytes, context: AnyContext, fresh: bool
    ) -> pb.BatchAck:
        """One serialized batch of an authenticated caller, in one of its provider's slots
        (RESOURCE_EXHAUSTED when it has none): PublishBatch's path, also the OTLP receiver's."""
        try:
            await self.shares.acquire(provider.id, queue=False)
        except Refused as exc:
            await self._refuse_over_bound(context, "in_flight", exc)
        return await self._handle(provider, raw, fresh)

    async def publish(
        self, requests: AsyncIterator[bytes], context: Context
    ) -> AsyncIterator[pb.BatchAck]:
        """Several batches in flight per stream; each ack is sent as soon as its batch settles.
        The stream counts against its provider's streams, and each batch takes one of its
        provider's slots before it is read (``fairness``)."""
        provider = await self.identify(context)
        try:
            async with self.shares.stream(provider.id, provider.max_streams):
                async for ack in self._stream(provider, requests):
                    yield ack
        except Refused as exc:
            await self._refuse_over_bound(context, "streams", exc)

    async def _stream(
        self, provider: Provider, requests: AsyncIterator[bytes]
    ) -> AsyncIterator[pb.BatchAck]:
        acks: asyncio.Queue[pb.BatchAck | None] = asyncio.Queue()
        slots = asyncio.Semaphore(MAX_IN_FLIGHT_PER_STREAM)
        pending: set[asyncio.Task[bool]] = set()

        async def one(raw: bytes, fresh: bool) -> bool:
            ack = await self._pipeline.handle(provider, raw, fresh)
            await acks.put(ack)
            return _rate_limited(ack)

        def settled(task: asyncio.Task[bool]) -> None:
            # also when the task was cancelled before it ever ran: the slots always come back
            pending.discard(task)
            slots.release()
            limited = not task.cancelled() and task.exception() is None and task.result()
            self.shares.release(provider.id, limited)

        async def read() -> None:
            # The stream's first batch may follow one another gateway process answered: know
            # where every chain stands before any batch of the stream is judged (in order).
            fresh = not await self._pipeline.catch_up()
            try:
                while True:
                    # a slot of the stream, then one of the provider, before reading more
                    await slots.acquire()
                    try:
                        await self.shares.acquire(provider.id)
                    except BaseException:
                        slots.release()
                        raise
                    task = None
                    try:
                        raw = await anext(requests)
                        metrics.GATEWAY_BATCHES.labels("Publish").inc()
                        task = asyncio.create_task(one(raw, fresh))
                    except StopAsyncIteration:
                        break
                    finally:
                        if task is None:
                            self.shares.release(provider.id)
                            slots.release()
                    pending.add(task)
                    task.add_done_callback(settled)
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
