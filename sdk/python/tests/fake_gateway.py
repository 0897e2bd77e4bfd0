"""An in-process Ingest service that answers as a test scripts it: the faults a real gateway gives
only by accident (a status per call, a credential revoked mid-stream, an ack lost after the
events were stored), on demand. The platform's suites test the SDK against the real gateway."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc

from jianguan_sdk import pb

TOKEN = "tok-acme"


@dataclass
class Fault:
    """Abort the call that carries the next batch with ``code``; ``after_storing``: store the
    batch first, so that only its ack is lost."""

    code: grpc.StatusCode
    after_storing: bool = False


@dataclass
class FakeGateway:
    faults: list[Fault] = field(default_factory=list)
    # After this many stored events the credential is refused (revoked while reporting).
    revoke_after: int | None = None
    stored: dict[str, pb.event_pb2.Event] = field(default_factory=dict)  # by event id
    calls: int = 0
    _server: grpc.aio.Server | None = None
    port: int = 0

    async def start(self, port: int = 0) -> str:
        server = grpc.aio.server()
        handlers = {
            "Publish": grpc.stream_stream_rpc_method_handler(
                self._publish,
                request_deserializer=pb.EventBatch.FromString,
                response_serializer=pb.BatchAck.SerializeToString,
            ),
            "GetSession": grpc.unary_unary_rpc_method_handler(
                self._session,
                request_deserializer=pb.ingest_pb2.GetSessionRequest.FromString,
                response_serializer=pb.ingest_pb2.GetSessionResponse.SerializeToString,
            ),
        }
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(pb.INGEST_SERVICE, handlers),)
        )
        self.port = server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        self._server = server
        return f"127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(None)
            self._server = None

    def sequences(self, service: str) -> list[int]:
        return sorted(
            e.envelope.sequence for e in self.stored.values() if e.envelope.service_id == service
        )

    async def _authenticate(self, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        metadata = dict(context.invocation_metadata() or ())
        revoked = self.revoke_after is not None and len(self.stored) >= self.revoke_after
        if metadata.get("authorization") != f"Bearer {TOKEN}" or revoked:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "unknown or revoked token")

    async def _session(
        self, request: pb.ingest_pb2.GetSessionRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ingest_pb2.GetSessionResponse:
        await self._authenticate(context)
        return pb.ingest_pb2.GetSessionResponse(provider_id="acme-ai", provider_name="Acme AI")

    async def _publish(
        self, batches: AsyncIterator[pb.EventBatch], context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[pb.BatchAck]:
        await self._authenticate(context)
        async for batch in batches:
            self.calls += 1
            await self._authenticate(context)
            fault = self.faults.pop(0) if self.faults else None
            if fault is not None and not fault.after_storing:
                await context.abort(fault.code, f"injected {fault.code.name}")
            ack = pb.BatchAck(batch_id=batch.batch_id, received=len(batch.events))
            for i, ev in enumerate(batch.events):
                if ev.envelope.event_id in self.stored:
                    ack.results.add(
                        index=i,
                        event_id=ev.envelope.event_id,
                        status=pb.ItemStatus.Value("ITEM_STATUS_DUPLICATE"),
                    )
                else:
                    self.stored[ev.envelope.event_id] = ev
                    ack.accepted += 1
            if fault is not None:
                await context.abort(fault.code, f"injected {fault.code.name} after storing")
            yield ack


@contextlib.contextmanager
def served(gateway: FakeGateway) -> Iterator[str]:
    """Serve ``gateway`` on a loop of its own thread (for blocking clients); yields its address."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield asyncio.run_coroutine_threadsafe(gateway.start(), loop).result(30)
    finally:
        asyncio.run_coroutine_threadsafe(gateway.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
