"""The provider's reporter: check, seal, spool, send — so that reporting cannot silently go wrong.

``report(service_id, event)``:
1. checks the event against the contract and the Art. 11 free-text scan, as the gateway will, and
   raises ``InvalidEvent`` at once (nothing is spooled, the chain does not advance);
2. seals it into the service's hash chain (sequence, previous hash);
3. writes it to the on-disk spool (raises ``SpoolFull`` when full: never drops) and returns a
   future of its ``Outcome``.

A background sender streams spooled events over ``Publish`` in batches (by size and linger time),
one batch in flight, so every service's events reach the event log in sequence order. Items the
gateway may take later (rate limited, event log unavailable) and failed calls are resent from the
first such item, with exponential backoff and full jitter; event ids are idempotency keys, so an
item whose answer was lost comes back DUPLICATE and is stored once. After a restart the reporter
resumes the spool and the hash chains where the previous process left them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import grpc

from jianguan_sdk import pb
from jianguan_sdk.chain import Chain, event_hash
from jianguan_sdk.client import TlsClientConfig, auth_metadata, channel_for
from jianguan_sdk.errors import TERMINAL_CALLS, ReporterStopped, refusal
from jianguan_sdk.outcome import InvalidEvent, Outcome, status_name
from jianguan_sdk.retry import RETRYABLE_ITEMS, backoff_s
from jianguan_sdk.spool import Entry, Spool
from jianguan_sdk.validation import (
    DEFAULT_LIMITS,
    IDENTIFIER_RULE,
    Limits,
    is_identifier,
    validate,
)

log = logging.getLogger(__name__)
Event = pb.event_pb2.Event
OutcomeCallback = Callable[[Outcome], None]


__all__ = ["AsyncReporter", "OutcomeCallback", "ReporterStopped"]


def _chain_name(service_id: str, stream_id: str) -> str:
    return f"{service_id}@{stream_id}" if stream_id else service_id


class AsyncReporter:
    """Use as ``async with AsyncReporter(target, token=..., spool_dir=...) as r:``.

    ``on_result`` is called for every answered event, also those resumed from a previous run
    (whose futures died with that process). Closing stops sending; unsent events stay spooled.

    Entering checks the credential with the gateway (``GetSession``) and raises
    ``AuthenticationFailed`` when it is refused; a gateway that cannot be reached then does not
    stop anything (events wait in the spool). Transport faults never stop the sender. A refusal
    no retry can change (a token revoked while running) stops it: every waiting future, ``report``
    and ``flush`` then raise ``ReporterStopped`` (``AuthenticationFailed`` for the credential).
    """

    def __init__(
        self,
        target: str,
        *,
        spool_dir: Path | str,
        token: str | None = None,
        tls: TlsClientConfig | None = None,
        batch_size: int = 500,
        linger_s: float = 0.02,
        max_spool_bytes: int = 256 * 1024 * 1024,
        fsync: bool = False,
        on_result: OutcomeCallback | None = None,
        base_delay_s: float = 0.2,
        max_delay_s: float = 5.0,
        call_timeout_s: float = 30.0,
        limits: Limits = DEFAULT_LIMITS,
        stream_id: str = "",
    ) -> None:
        if stream_id and not is_identifier(stream_id):
            raise ValueError(f"stream_id {stream_id!r}: {IDENTIFIER_RULE}, at most 64 characters")
        self._stream = stream_id
        self._target, self._token, self._tls = target, token, tls
        self._batch_size, self._linger_s = batch_size, linger_s
        self._on_result = on_result
        self._base_delay_s, self._max_delay_s = base_delay_s, max_delay_s
        self._call_timeout_s = call_timeout_s
        self._limits = limits
        self._chains: dict[tuple[str, str], Chain] = {}  # by (service, stream)
        self._spool = Spool(spool_dir, self._chain_snapshot, max_spool_bytes, fsync=fsync)
        self._restore_chains()
        self._futures: dict[tuple[str, str, int], asyncio.Future[Outcome]] = {}
        self._wakeup = asyncio.Event()
        self._drained = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        self._error: ReporterStopped | None = None
        self.session: pb.ingest_pb2.GetSessionResponse | None = None
        self.delivered = 0
        self.rejected = 0

    # -- chains ---------------------------------------------------------------------------------

    def _chain_snapshot(self) -> bytes:
        heads = sorted([s, t, c.sequence, c.last_hash.hex()] for (s, t), c in self._chains.items())
        return json.dumps({"chains": heads}).encode()

    def _restore_chains(self) -> None:
        meta, records = self._spool.newest()
        saved = json.loads(meta) if meta else {}
        if "chains" not in saved:  # written before streams: {service: [sequence, hash]}
            saved = {"chains": [[s, "", q, h] for s, (q, h) in saved.items()]}
        for service, stream, seq, digest in saved["chains"]:
            self._chains[service, stream] = Chain(service, seq, bytes.fromhex(digest), stream)
        for raw in records:
            ev = Event.FromString(raw)
            env = ev.envelope
            key = (env.service_id, env.stream_id)
            self._chains[key] = Chain(env.service_id, env.sequence, event_hash(ev), env.stream_id)

    @property
    def stream_id(self) -> str:
        """The stream this reporter seals its events into ("" : each service's one chain)."""
        return self._stream

    def chain_head(self, service_id: str) -> tuple[int, bytes]:
        """The last sequence number and hash sealed for ``service_id`` in this stream."""
        c = self._chains.get((service_id, self._stream))
        return (c.sequence, c.last_hash) if c else (0, b"")

    # -- reporting -----------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Events spooled and not yet answered by the gateway."""
        return self._spool.pending

    def report(self, service_id: str, event: Event) -> asyncio.Future[Outcome]:
        """Check, seal and spool one event; the future resolves when the gateway answered."""
        return self.report_many(service_id, [event])[0]

    def report_many(
        self, service_id: str, events: Sequence[Event]
    ) -> list[asyncio.Future[Outcome]]:
        """All of ``events`` or none: each is checked first (``InvalidEvent`` names the first
        bad one), then all are sealed and spooled together."""
        self._raise_if_stopped()
        now = time.time()
        for ev in events:
            ev.envelope.service_id = service_id
            ev.envelope.sequence = 1  # placeholders so the check judges the provider's part
            ev.envelope.schema_version = pb.SCHEMA_VERSION
            problem = validate(ev, now, self._limits)
            if problem is not None:
                raise InvalidEvent(
                    ev.envelope.event_id, status_name(problem.status), problem.path, problem.reason
                )
        key = (service_id, self._stream)
        chain = self._chains.get(key) or Chain(service_id, stream_id=self._stream)
        saved = (chain.sequence, chain.last_hash)
        payloads = [chain.seal(ev).SerializeToString() for ev in events]
        try:
            self._spool.append(payloads)
        except BaseException:
            chain.sequence, chain.last_hash = saved
            raise
        self._chains[key] = chain
        loop = asyncio.get_running_loop()
        futures = []
        for ev in events:
            fut: asyncio.Future[Outcome] = loop.create_future()
            self._futures[(service_id, self._stream, ev.envelope.sequence)] = fut
            futures.append(fut)
        self._drained.clear()
        self._wakeup.set()
        return futures

    async def flush(self, timeout_s: float | None = None) -> None:
        """Wait until every spooled event was answered (raises ``TimeoutError``)."""
        try:
            await asyncio.wait_for(self._drain(), timeout_s)
        except asyncio.TimeoutError:  # not the builtin TimeoutError before Python 3.11
            raise TimeoutError(f"{self._spool.pending} events still unanswered") from None

    async def _drain(self) -> None:
        while self._spool.pending:
            self._raise_if_stopped()
            self._drained.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._drained.wait(), 0.5)

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> AsyncReporter:
        channel = channel_for(self._target, self._tls)  # one connection for both questions
        try:
            await self.check_credential(channel=channel)
            await self.resume_chains(channel=channel)
        except BaseException:
            self._spool.close()
            raise
        finally:
            await channel.close(None)
        self.start()
        return self

    async def check_credential(
        self, timeout_s: float = 10.0, channel: grpc.aio.Channel | None = None
    ) -> None:
        """Ask the gateway whom the credential names (kept in ``session``). Raises
        ``AuthenticationFailed`` when it is refused; an unreachable gateway only logs."""
        own = channel is None
        channel = channel or channel_for(self._target, self._tls)
        stub = pb.ingest_pb2_grpc.IngestServiceStub(channel)
        try:
            self.session = await stub.GetSession(
                pb.ingest_pb2.GetSessionRequest(),
                metadata=auth_metadata(self._token),
                timeout=timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() in TERMINAL_CALLS and exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise refusal(exc.code(), exc.details() or "", self._target) from None
            # UNIMPLEMENTED: a gateway older than GetSession; Publish will tell.
            log.warning(
                "could not check the credential with %s (%s); events are spooled and sent"
                " when it answers",
                self._target,
                exc.code().name,
            )
        else:
            log.info("reporting to %s as provider %r", self._target, self.session.provider_id)
        finally:
            if own:
                await channel.close(None)

    async def resume_chains(
        self, timeout_s: float = 10.0, channel: grpc.aio.Channel | None = None
    ) -> int:
        """Continue each of this stream's chains where the platform holds it when this reporter
        knows less (its state was lost: a container's disk, a restored backup), so that it never
        starts a chain again; returns how many chains it took from the platform. A gateway that
        cannot be asked only logs (the chains continue from the spool)."""
        own = channel is None
        channel = channel or channel_for(self._target, self._tls)
        stub = pb.ingest_pb2_grpc.IngestServiceStub(channel)
        try:
            answer = await stub.GetChainHeads(
                pb.ingest_pb2.GetChainHeadsRequest(stream_id=self._stream),
                metadata=auth_metadata(self._token),
                timeout=timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            code = exc.code().name
            log.warning("could not ask %s where the chains stand (%s)", self._target, code)
            return 0
        finally:
            if own:
                await channel.close(None)
        taken = 0
        for head in answer.heads:
            key = (head.service_id, head.stream_id)
            mine = self._chains.get(key)
            if mine is not None and mine.sequence >= head.sequence:
                continue
            if mine is not None:
                log.warning(
                    "%s: this reporter's chain stops at %d, the platform's at %d: continuing"
                    " the platform's",
                    _chain_name(*key),
                    mine.sequence,
                    head.sequence,
                )
            self._chains[key] = Chain(head.service_id, head.sequence, head.hash, head.stream_id)
            taken += 1
        return taken

    def _raise_if_stopped(self) -> None:
        if self._error is not None:
            raise self._error.again()

    def _stop(self, error: ReporterStopped) -> None:
        """Stop for good: every waiting future fails with ``error`` (the spool keeps the events)."""
        self._error = error
        log.error("reporting stopped: %s", error)
        waiting, self._futures = self._futures, {}
        for fut in waiting.values():
            if not fut.done():
                fut.set_exception(error.again())

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def start(self) -> None:
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_forever(), name="jianguan-reporter")

    async def close(self) -> None:
        """Stop sending (unanswered events stay in the spool for the next start)."""
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
            self._sender = None
        self._spool.close()

    # -- the sender ----------------------------------------------------------------------------

    async def _send_forever(self) -> None:
        channel = channel_for(self._target, self._tls)
        stub = pb.ingest_pb2_grpc.IngestServiceStub(channel)
        metadata = auth_metadata(self._token)
        call: grpc.aio.StreamStreamCall[pb.EventBatch, pb.BatchAck] | None = None
        attempt = 0
        try:
            while True:
                entries = self._spool.read(self._batch_size)
                if not entries:
                    if not self._spool.pending:
                        self._drained.set()
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                if len(entries) < self._batch_size and self._linger_s:
                    await asyncio.sleep(self._linger_s)
                    entries += self._spool.read(self._batch_size - len(entries))
                events = [Event.FromString(e.payload) for e in entries]
                batch = pb.EventBatch(batch_id=events[0].envelope.event_id, events=events)
                try:
                    if call is None:
                        call = stub.Publish(metadata=metadata)  # type: ignore[call-arg]
                    await call.write(batch)
                    ack = await asyncio.wait_for(call.read(), self._call_timeout_s)
                    if not isinstance(ack, pb.BatchAck):  # EOF
                        raise ConnectionError("the gateway closed the stream")
                except (
                    grpc.aio.AioRpcError,
                    ConnectionError,
                    asyncio.TimeoutError,
                    asyncio.InvalidStateError,  # the stream ended before this write
                ) as exc:
                    if isinstance(exc, grpc.aio.AioRpcError) and exc.code() in TERMINAL_CALLS:
                        self._stop(refusal(exc.code(), exc.details() or "", self._target))
                        return
                    if call is not None:
                        call.cancel()
                    call = None
                    self._spool.rewind()
                    attempt += 1
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                done = self._settle(events, entries, ack)
                if done < len(events):
                    self._spool.rewind()
                    attempt += 1
                    await asyncio.sleep(self._backoff(attempt))
                else:
                    attempt = 0
        except Exception as exc:  # a bug must not leave flush() or a future waiting forever
            log.exception("reporting stopped on an unexpected error")
            stopped = ReporterStopped(f"reporting stopped on an unexpected error: {exc!r}")
            stopped.__cause__ = exc
            self._stop(stopped)
        finally:
            if call is not None:
                call.cancel()
            await channel.close(None)

    def _backoff(self, attempt: int) -> float:
        return backoff_s(attempt, self._base_delay_s, self._max_delay_s, random.random)

    def _settle(self, events: list[Event], entries: list[Entry], ack: pb.BatchAck) -> int:
        """Answer every item before the first retryable one; returns how many were answered."""
        answers = {r.index: r for r in ack.results}
        stop = min(
            (r.index for r in ack.results if r.status in RETRYABLE_ITEMS), default=len(events)
        )
        for i in range(stop):
            env = events[i].envelope
            r = answers.get(i)
            if r is None and i >= ack.received:
                # the gateway could not read this far into the batch: not received, not accepted
                r = pb.ItemResult(
                    index=i,
                    status=pb.ingest_pb2.ITEM_STATUS_INVALID,
                    reason=f"not received: the gateway read {ack.received} items of the batch",
                )
            out = Outcome(
                env.event_id,
                env.service_id,
                env.sequence,
                "ACCEPTED" if r is None else status_name(r.status),
                "" if r is None else r.field_path,
                "" if r is None else r.reason,
                env.stream_id,
            )
            self._answer(out)
        if stop:
            self._spool.ack(entries[stop - 1].end, stop)
        if not self._spool.pending:
            self._drained.set()
        return stop

    def _answer(self, out: Outcome) -> None:
        if out.ok:
            self.delivered += 1
        else:
            self.rejected += 1
            log.warning("event not accepted: %s", out)
        fut = self._futures.pop((out.service_id, out.stream_id, out.sequence), None)
        if fut is not None and not fut.done():
            fut.set_result(out)
        if self._on_result is not None:
            try:
                self._on_result(out)
            except Exception:
                log.exception("on_result callback failed for %s", out.event_id)
