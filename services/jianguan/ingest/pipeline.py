"""One batch through admission and into the event log: the shared core of every ingest path
(the gRPC gateway and the Kafka inbound validator call this, and only this)."""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from collections.abc import Callable
from typing import Protocol

from jianguan import metrics
from jianguan.accounts.registry import Provider
from jianguan.contracts import pb
from jianguan.ingest.admission import (
    UNAVAILABLE,
    Admission,
    Admitted,
    Rejection,
    ServiceGroup,
)
from jianguan.ingest.chain_book import ChainBook
from jianguan.ingest.chain_check import chains_of, check, new_heads
from jianguan_sdk.chain import event_hash

MAX_BATCH_EVENTS = 10_000
_STATUS_NAMES = {
    v.number: v.name.removeprefix("ITEM_STATUS_") for v in pb.ItemStatus.DESCRIPTOR.values
}


class Publisher(Protocol):
    async def publish(
        self, provider_id: str, service_id: str, payload: bytes, received_ms: int
    ) -> bool: ...

    async def record_outcome(self, provider_id: str, outcome: bytes) -> bool: ...


class IngestPipeline:
    """Decode → admit → check chains → produce (acks=all) → settle → record chain heads → ack.
    ``path`` labels the metrics.

    A batch is answered within ``produce_timeout_s`` even while the broker is away: items whose
    record the broker has not confirmed by then are UNAVAILABLE (retryable) and stay in doubt
    until it answers, so a retry meanwhile is never produced twice.

    With a ``chains`` book, every item must continue its chain (``ingest.chain_check``); a
    batch marked ``fresh`` (the first of a stream, or a call of its own) is judged only once this
    process knows every head recorded before it arrived, wherever it was recorded.
    """

    def __init__(
        self,
        admission: Admission,
        publisher: Publisher,
        path: str,
        now: Callable[[], float] = time.time,
        produce_timeout_s: float = 10.0,
        chains: ChainBook | None = None,
    ) -> None:
        self._chains = chains
        self._admission = admission
        self._publisher = publisher
        self._path = path
        self._now = now
        self._timeout = produce_timeout_s
        self._late: set[asyncio.Task[bool]] = set()

    async def catch_up(self) -> bool:
        """Learn where every chain stands as recorded up to now (for a stream's batches to come);
        False when that cannot be read in time (then each batch is ``fresh``)."""
        if self._chains is None:
            return True
        try:
            await asyncio.wait_for(self._chains.caught_up(), self._timeout)
        except (TimeoutError, RuntimeError):
            return False
        return True

    async def handle(self, provider: Provider, raw: bytes, fresh: bool = True) -> pb.BatchAck:
        """The ack for one serialized EventBatch from ``provider``; its outcome is recorded in the
        outcomes topic before the ack is returned. Never raises for bad input. ``fresh``: the
        batch may follow one another process answered (see the class)."""
        now = self._now()
        ack = await self._judge(provider, raw, now, fresh)
        outcome = pb.ingest_pb2.IngestOutcome(
            outcome_id=uuid.uuid4().hex,
            provider_id=provider.id,
            path=self._path,
            batch_id=ack.batch_id,
            received=ack.received,
            accepted=ack.accepted,
            results=ack.results,
        )
        outcome.received_at.FromNanoseconds(int(now * 1e9))
        try:
            recorded = await asyncio.wait_for(
                self._publisher.record_outcome(provider.id, outcome.SerializeToString()),
                self._timeout,
            )
        except TimeoutError:
            recorded = False
        if not recorded:
            # The batch's own fate is already settled; a lost outcome only under-counts the
            # report card, and is counted here so it is never silent.
            metrics.INGEST_OUTCOME_FAILURES.labels(self._path).inc()
        return ack

    async def _judge(self, provider: Provider, raw: bytes, now: float, fresh: bool) -> pb.BatchAck:
        started = time.perf_counter()
        admitted = self._admission.judge(provider.policy, raw, now, MAX_BATCH_EVENTS)
        received_ms = int(now * 1000)
        if self._chains is not None and admitted.links:
            accepted, rejections = await self._chained(
                self._chains, provider, admitted, received_ms, fresh
            )
        else:
            rejections = list(admitted.rejections)
            accepted = await self._produce(provider, admitted, rejections, received_ms)
        metrics.INGEST_BATCH_SECONDS.labels(self._path).observe(time.perf_counter() - started)
        return self._ack(provider.id, admitted.batch_id, admitted.received, accepted, rejections)

    async def _chained(
        self, book: ChainBook, provider: Provider, admitted: Admitted, received_ms: int, fresh: bool
    ) -> tuple[int, list[Rejection]]:
        """Produce the items that continue their chains, then record where the chains stand."""

        def hash_of(i: int) -> bytes:
            encoded = admitted.encoding(i)
            assert encoded is not None  # every placed item was read
            return event_hash(pb.Event.FromString(encoded))

        if (fresh or not book.ready) and not await self.catch_up():
            metrics.INGEST_CHAIN_UNKNOWN.labels(self._path).inc()
            self._postpone(provider.id, admitted)
            return 0, list(admitted.rejections)
        chains = chains_of(admitted.links)
        async with book.hold(provider.id, chains):
            refused = {r.index: r for r in admitted.rejections}
            checked = check(
                admitted.links, refused, lambda c: book.head(provider.id, *c), hash_of, chains
            )
            self._admission.withdraw(provider.id, admitted, checked.answers, checked.forget)
            rejections = list(admitted.rejections)
            accepted = await self._produce(provider, admitted, rejections, received_ms)
            final = {r.index: r for r in rejections}
            heads = new_heads(checked.taken, final, admitted.links, hash_of)
            # The chains' next batches are judged against these heads from now on; they are
            # durable (another process may be asked next) before this batch is answered.
            confirmed = await book.propose(provider.id, heads) if heads else None
        if confirmed is not None and not await confirmed():
            metrics.INGEST_CHAIN_UNRECORDED.labels(self._path).inc()
        return accepted, rejections

    def _postpone(self, provider_id: str, admitted: Admitted) -> None:
        """Where the batch's chains stand is not known (the heads' topic cannot be read): every
        item admitted waits (UNAVAILABLE), nothing is produced."""
        reason = "where its chain stands is not known yet (the event log is away); retry"
        answers = {
            i: Rejection(i, e, UNAVAILABLE, "", reason)
            for g in admitted.groups
            for i, e in zip(g.indices, g.event_ids, strict=True)
        }
        self._admission.withdraw(provider_id, admitted, answers, set(answers))

    async def _produce(
        self, provider: Provider, admitted: Admitted, rejections: list[Rejection], received_ms: int
    ) -> int:
        groups = admitted.groups
        if not groups:
            return 0
        sends = [
            asyncio.ensure_future(
                self._publisher.publish(provider.id, g.service_id, g.payload, received_ms)
            )
            for g in groups
        ]
        await asyncio.wait(sends, timeout=self._timeout)
        accepted = 0
        for group, send in zip(groups, sends, strict=True):
            if not send.done():
                metrics.INGEST_PRODUCE_FAILURES.labels(self._path).inc()
                rejections.extend(self._admission.doubt(provider.id, group))
                self._late.add(send)
                send.add_done_callback(functools.partial(self._resolve, provider.id, group))
                continue
            stored = send.result()
            if stored:
                accepted += len(group.indices)
                # How late the provider reports: one sample per record (the newest event).
                metrics.INGEST_EVENT_AGE.labels(self._path).observe(
                    max(0.0, received_ms / 1000 - group.newest_s)
                )
            else:
                metrics.INGEST_PRODUCE_FAILURES.labels(self._path).inc()
            rejections.extend(self._admission.settle(provider.id, group, stored))
        return accepted

    def _resolve(self, provider_id: str, group: ServiceGroup, send: asyncio.Task[bool]) -> None:
        self._late.discard(send)
        stored = not send.cancelled() and send.exception() is None and send.result()
        self._admission.resolve(provider_id, group, stored)

    def _ack(
        self,
        provider_id: str,
        batch_id: str,
        received: int,
        accepted: int,
        rejections: list[Rejection],
    ) -> pb.BatchAck:
        if accepted:
            metrics.INGEST_ITEMS.labels(self._path, provider_id, "ACCEPTED").inc(accepted)
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
                metrics.INGEST_ITEMS.labels(self._path, provider_id, _STATUS_NAMES[status]).inc(
                    count
                )
        return ack
