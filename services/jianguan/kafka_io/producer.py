"""Kafka producer for every ingest path: acks=all, idempotent, one record per admitted service
group.

The idempotent producer keeps a retried send from writing a record twice within one producer
session; a record resent by a new session (a restarted gateway, a provider retrying a batch it
got no answer for) is still a second copy, so consumers deduplicate on (provider_id, event_id).
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from jianguan.contracts import topics

log = logging.getLogger(__name__)


class EventLogProducer:
    def __init__(
        self, bootstrap: str, topic: str = "", outcomes_topic: str = "", linger_ms: int = 2
    ) -> None:
        """``topic`` and ``outcomes_topic``: where ``publish`` and ``record_outcome`` write
        (``send`` names its own)."""
        self.topic = topic
        self.outcomes_topic = outcomes_topic
        self._bootstrap = bootstrap
        self._linger_ms = linger_ms
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Create and connect the producer (inside the running event loop)."""
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            acks="all",
            linger_ms=self._linger_ms,
            max_request_size=16 * 1024 * 1024,
            max_batch_size=1024 * 1024,
            request_timeout_ms=15000,
            enable_idempotence=True,
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def send(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> bool:
        """Append one record; True once the broker acknowledged it (acks=all)."""
        if self._producer is None:
            return False
        try:
            fut = await self._producer.send(topic, value, key=key, headers=headers)
            await fut
        except KafkaError as exc:
            log.warning("broker did not take a record for %s: %s", topic, exc)
            return False
        return True

    async def send_until_acknowledged(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        """``send``, retried with backoff until the broker acknowledges the record (for records
        their owner must not commit past: a feedback, a dead letter)."""
        delay = 0.2
        while not await self.send(topic, key, value, headers):
            log.warning("a record for %s not acknowledged; retrying in %.1fs", topic, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def publish(
        self, provider_id: str, service_id: str, payload: bytes, received_ms: int
    ) -> bool:
        """Append one EventBatch record of one (provider, service) to the events topic."""
        return await self.send(
            self.topic,
            topics.record_key(provider_id),
            payload,
            topics.event_headers(provider_id, received_ms),
        )

    async def record_outcome(self, provider_id: str, outcome: bytes) -> bool:
        """Append one IngestOutcome record (what happened to one received batch)."""
        headers = [(topics.HEADER_PROVIDER, provider_id.encode())]
        return await self.send(self.outcomes_topic, provider_id.encode(), outcome, headers)
