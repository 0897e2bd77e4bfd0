"""A small asyncio client for the Ingest service (token or mTLS)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import grpc

from jianguan_sdk import pb


class BatchPublisher(Protocol):
    """The one ``publish_batch`` API of the gRPC and the Kafka clients."""

    async def publish_batch(
        self, events: Iterable[pb.event_pb2.Event], batch_id: str = "", deadline_s: float = 30.0
    ) -> pb.BatchAck:
        """Publish one batch; the ack lists every item that was not accepted."""
        ...


@dataclass(frozen=True, slots=True)
class TlsClientConfig:
    ca: bytes
    cert: bytes | None = None
    key: bytes | None = None


_OPTIONS = [
    ("grpc.max_send_message_length", 32 * 1024 * 1024),
    ("grpc.max_receive_message_length", 32 * 1024 * 1024),
    # A connection of its own: gRPC otherwise shares one connection among every channel of the
    # process with the same target and options, and the gateway bounds the calls open at once
    # per connection (its fairness), so a process reporting for many providers (a platform
    # vendor, the simulator) saw the calls of all but the first few wait for ever.
    ("grpc.use_local_subchannel_pool", 1),
]


def channel_for(target: str, tls: TlsClientConfig | None) -> grpc.aio.Channel:
    """An asyncio channel to the gateway: TLS (mTLS with cert and key) or plaintext on loopback."""
    if tls is not None:
        return grpc.aio.secure_channel(target, _credentials(tls), options=_OPTIONS)
    return grpc.aio.insecure_channel(target, options=_OPTIONS)


def blocking_channel_for(target: str, tls: TlsClientConfig | None) -> grpc.Channel:
    """The same channel for blocking code."""
    if tls is not None:
        return grpc.secure_channel(target, _credentials(tls), options=_OPTIONS)
    return grpc.insecure_channel(target, options=_OPTIONS)


def _credentials(tls: TlsClientConfig) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(tls.ca, tls.key, tls.cert)


def auth_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    """The call metadata carrying a provider's bearer token (none with mTLS)."""
    return (("authorization", f"Bearer {token}"),) if token else ()


class IngestClient:
    """Publishes EventBatches. Use as ``async with IngestClient(target, token=...) as c``."""

    def __init__(
        self, target: str, token: str | None = None, tls: TlsClientConfig | None = None
    ) -> None:
        self._channel = channel_for(target, tls)
        self._metadata = auth_metadata(token)
        self._stub = pb.ingest_pb2_grpc.IngestServiceStub(self._channel)

    async def __aenter__(self) -> IngestClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close(None)

    async def publish_batch(
        self, events: Iterable[pb.event_pb2.Event], batch_id: str = "", deadline_s: float = 30.0
    ) -> pb.BatchAck:
        batch = pb.EventBatch(batch_id=batch_id, events=list(events))
        ack: pb.BatchAck = await self._stub.PublishBatch(
            batch, metadata=self._metadata, timeout=deadline_s
        )
        return ack

    async def session(self, deadline_s: float = 10.0) -> pb.ingest_pb2.GetSessionResponse:
        """Whom the credential names and what the gateway takes (raises ``AioRpcError``
        UNAUTHENTICATED for a credential it refuses)."""
        session: pb.ingest_pb2.GetSessionResponse = await self._stub.GetSession(
            pb.ingest_pb2.GetSessionRequest(), metadata=self._metadata, timeout=deadline_s
        )
        return session

    async def chain_heads(
        self, stream_id: str = "", service_ids: Iterable[str] = (), deadline_s: float = 10.0
    ) -> list[pb.ingest_pb2.ChainHead]:
        """Where the caller's chains of ``stream_id`` stand on the platform."""
        answer: pb.ingest_pb2.GetChainHeadsResponse = await self._stub.GetChainHeads(
            pb.ingest_pb2.GetChainHeadsRequest(stream_id=stream_id, service_ids=list(service_ids)),
            metadata=self._metadata,
            timeout=deadline_s,
        )
        return list(answer.heads)

    async def publish_stream(
        self, batches: AsyncIterator[pb.EventBatch] | Iterator[pb.EventBatch]
    ) -> AsyncIterator[pb.BatchAck]:
        """Stream batches; yields one ack per batch, possibly out of order (match by batch_id)."""
        call = self._stub.Publish(batches, metadata=self._metadata)
        async for ack in call:
            yield ack
