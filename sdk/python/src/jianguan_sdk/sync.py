"""Blocking clients for code without an event loop: the same reporter and batch client.

``Reporter`` runs an ``AsyncReporter`` on its own thread and loop; ``report`` checks, seals and
spools on that loop (so errors such as ``InvalidEvent`` and ``SpoolFull`` are raised in the
caller's thread) and returns a ``concurrent.futures.Future`` of the outcome.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine, Iterable, Sequence
from typing import Any, TypeVar

from jianguan_sdk import pb
from jianguan_sdk.client import TlsClientConfig, auth_metadata, blocking_channel_for
from jianguan_sdk.outcome import Outcome
from jianguan_sdk.reporter import AsyncReporter

T = TypeVar("T")
Event = pb.event_pb2.Event


def _mirror(fut: asyncio.Future[Outcome]) -> concurrent.futures.Future[Outcome]:
    mirror: concurrent.futures.Future[Outcome] = concurrent.futures.Future()

    def copy(done: asyncio.Future[Outcome]) -> None:
        if done.cancelled():
            mirror.cancel()
        elif (exc := done.exception()) is not None:
            mirror.set_exception(exc)  # the reporter stopped (e.g. AuthenticationFailed)
        else:
            mirror.set_result(done.result())

    fut.add_done_callback(copy)
    return mirror


class Reporter:
    """``with Reporter(target, token=..., spool_dir=...) as r: r.report("svc", event)``.

    Takes the keyword arguments of ``AsyncReporter``; ``on_result`` runs on the reporter's thread.
    """

    def __init__(self, target: str, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="jianguan-reporter", daemon=True
        )
        self._thread.start()
        try:
            self._reporter = self._call(self._open(target, options))
        except BaseException:
            self._stop_loop()
            raise

    @staticmethod
    async def _open(target: str, options: dict[str, Any]) -> AsyncReporter:
        reporter = AsyncReporter(target, **options)
        await reporter.__aenter__()  # checks the credential first (AuthenticationFailed)
        return reporter

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def __enter__(self) -> Reporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pending(self) -> int:
        return self._reporter.pending

    @property
    def session(self) -> pb.ingest_pb2.GetSessionResponse | None:
        """Whom the gateway took the credential for (None if it could not be asked at start)."""
        return self._reporter.session

    def report(self, service_id: str, event: Event) -> concurrent.futures.Future[Outcome]:
        return self.report_many(service_id, [event])[0]

    def report_many(
        self, service_id: str, events: Sequence[Event]
    ) -> list[concurrent.futures.Future[Outcome]]:
        async def spool() -> list[concurrent.futures.Future[Outcome]]:
            out = []
            for fut in self._reporter.report_many(service_id, events):
                out.append(_mirror(fut))
            return out

        return self._call(spool())

    def flush(self, timeout_s: float | None = None) -> None:
        self._call(self._reporter.flush(timeout_s))

    def close(self) -> None:
        """Stop sending; unanswered events stay spooled for the next start."""
        if self._loop.is_running():
            self._call(self._reporter.close())
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._call(_cancel_the_rest())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


async def _cancel_the_rest() -> None:
    """Let the loop's leftover tasks (gRPC call bookkeeping) finish before it stops."""
    me = asyncio.current_task()
    rest = [t for t in asyncio.all_tasks() if t is not me]
    for t in rest:
        t.cancel()
    await asyncio.gather(*rest, return_exceptions=True)


class SyncIngestClient:
    """Blocking ``PublishBatch``; use as ``with SyncIngestClient(target, token=...) as c:``."""

    def __init__(
        self, target: str, token: str | None = None, tls: TlsClientConfig | None = None
    ) -> None:
        self._channel = blocking_channel_for(target, tls)
        self._metadata = auth_metadata(token)
        self._stub = pb.ingest_pb2_grpc.IngestServiceStub(self._channel)

    def __enter__(self) -> SyncIngestClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def session(self, deadline_s: float = 10.0) -> pb.ingest_pb2.GetSessionResponse:
        """Whom the credential names and what the gateway takes (raises ``grpc.RpcError``
        UNAUTHENTICATED for a credential it refuses)."""
        session: pb.ingest_pb2.GetSessionResponse = self._stub.GetSession(
            pb.ingest_pb2.GetSessionRequest(), metadata=self._metadata, timeout=deadline_s
        )
        return session

    def publish_batch(
        self, events: Iterable[Event], batch_id: str = "", deadline_s: float = 30.0
    ) -> pb.BatchAck:
        batch = pb.EventBatch(batch_id=batch_id, events=list(events))
        ack: pb.BatchAck = self._stub.PublishBatch(
            batch, metadata=self._metadata, timeout=deadline_s
        )
        return ack
