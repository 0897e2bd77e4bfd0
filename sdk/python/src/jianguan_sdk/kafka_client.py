"""Publishing through Kafka (a provider's inbound topic) with the same API as the gRPC client:
``publish_batch`` returns the BatchAck the platform wrote to the provider's feedback topic."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from jianguan_sdk import pb, topics


class KafkaIngestClient:
    """Use as ``async with KafkaIngestClient(bootstrap, "my-provider") as c``.

    ``security`` is passed to the aiokafka clients (e.g. ``security_protocol="SASL_SSL"``,
    ``sasl_mechanism="SCRAM-SHA-512"``, ``sasl_plain_username``, ``sasl_plain_password``,
    ``ssl_context``) for a production cluster where ACLs bind the principal to its topics.
    """

    def __init__(
        self,
        bootstrap: str,
        provider_id: str,
        namespace: str = "",
        security: dict[str, Any] | None = None,
    ) -> None:
        self._bootstrap = bootstrap
        self._inbound = topics.inbound_topic(provider_id, namespace)
        self._feedback = topics.feedback_topic(provider_id, namespace)
        self._security = security or {}
        self._waiting: dict[str, asyncio.Future[pb.BatchAck]] = {}
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> KafkaIngestClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            acks="all",
            enable_idempotence=True,
            max_request_size=32 * 1024 * 1024,
            **self._security,
        )
        await self._producer.start()
        # A group of its own on the feedback topic: the first start reads the topic's history
        # (acks of unknown batches are skipped), later starts resume where the last one stopped.
        self._consumer = AIOKafkaConsumer(
            self._feedback,
            bootstrap_servers=self._bootstrap,
            group_id=f"{self._feedback}.sdk",
            auto_offset_reset="earliest",
            **self._security,
        )
        await self._consumer.start()
        self._reader = asyncio.create_task(self._read_feedback())

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._consumer is not None:
            await self._consumer.stop()
        if self._producer is not None:
            await self._producer.stop()

    async def _read_feedback(self) -> None:
        assert self._consumer is not None
        async for record in self._consumer:
            ack = pb.BatchAck.FromString(record.value or b"")
            waiting = self._waiting.pop(ack.batch_id, None)
            if waiting is not None and not waiting.done():
                waiting.set_result(ack)

    async def publish_batch(
        self, events: Iterable[pb.event_pb2.Event], batch_id: str = "", deadline_s: float = 60.0
    ) -> pb.BatchAck:
        """Write one batch to the inbound topic; return the platform's ack for it."""
        batch_id = batch_id or uuid.uuid4().hex
        batch = pb.EventBatch(batch_id=batch_id, events=list(events))
        return await self.publish_encoded(batch_id, batch.SerializeToString(), deadline_s)

    async def publish_encoded(
        self, batch_id: str, payload: bytes, deadline_s: float = 60.0
    ) -> pb.BatchAck:
        """Write one serialized EventBatch, keyed by ``batch_id``; return the platform's ack.
        A payload the platform cannot decode is answered under that key too."""
        assert self._producer is not None, "use `async with` or call start() first"
        future: asyncio.Future[pb.BatchAck] = asyncio.get_running_loop().create_future()
        self._waiting[batch_id] = future
        try:
            sent = await self._producer.send(self._inbound, payload, key=batch_id.encode())
            await sent
            return await asyncio.wait_for(future, deadline_s)
        finally:
            self._waiting.pop(batch_id, None)
