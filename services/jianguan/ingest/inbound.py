"""Direct Kafka ingest: providers' inbound topics → the shared ingest pipeline → events topic,
with a feedback record for every inbound record.

The provider is the owner of the topic the record was read from (on a production cluster, ACLs
let each provider principal write only its own inbound topic), never a value in the payload.
Offsets are committed only after the accepted events and the feedback record were acknowledged
by the broker; a crash in between re-reads the record: its events are answered DUPLICATE while
the validator remembers them, and are stored once in any case.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition

from jianguan import metrics
from jianguan.accounts.registry import Provider, ProviderRegistry
from jianguan.contracts import pb, topics
from jianguan.contracts.validation import DEFAULT_LIMITS
from jianguan.domain.dedup import RecentIds
from jianguan.domain.ratelimit import RateLimiter
from jianguan.ingest.admission import Admission
from jianguan.ingest.pipeline import IngestPipeline
from jianguan.ingest.warm_start import KnownIds, remember_known_ids
from jianguan.kafka_io.clients import committing_consumer
from jianguan.kafka_io.producer import EventLogProducer

log = logging.getLogger(__name__)


class InboundValidator:
    def __init__(
        self,
        bootstrap: str,
        registry: ProviderRegistry,
        namespace: str = "",
        group: str = "jianguan-inbound",
        known_ids: KnownIds | None = None,
        dedup_capacity: int = 2_000_000,
        dedup_max_bytes: int | None = None,
    ) -> None:
        self._bootstrap = bootstrap
        self._group = group
        self._namespace = namespace
        self._owners: dict[str, Provider] = {
            topics.inbound_topic(p.id, namespace): p for p in registry.providers
        }
        self._known_ids = known_ids
        self._warm_start: asyncio.Task[int] | None = None
        self.dedup = RecentIds(dedup_capacity, dedup_max_bytes)
        self.producer = EventLogProducer(
            bootstrap,
            topics.topic_name(topics.EVENTS, namespace),
            topics.topic_name(topics.OUTCOMES, namespace),
        )
        self._pipeline = IngestPipeline(
            Admission(self.dedup, RateLimiter(), DEFAULT_LIMITS), self.producer, path="kafka"
        )
        self._consumer: AIOKafkaConsumer = None
        self._stopping = asyncio.Event()

    @property
    def inbound_topics(self) -> list[str]:
        return sorted(self._owners)

    async def start(self) -> None:
        if self._known_ids is not None:
            self._warm_start = asyncio.create_task(
                remember_known_ids(self.dedup, self._known_ids, "kafka inbound")
            )
        await self.producer.start()
        self._consumer = committing_consumer(self._bootstrap, self._group)
        await self._consumer.start()
        if self._owners:
            self._consumer.subscribe(self.inbound_topics)

    def request_stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        try:
            while not self._stopping.is_set():
                if not self._owners:
                    await self._stopping.wait()  # no provider registered: nothing to read
                    break
                fetched = await self._consumer.getmany(timeout_ms=100, max_records=100)
                if not fetched:
                    continue
                # Partitions are independent; within one, records are handled in order.
                done = await asyncio.gather(
                    *(self._partition(tp, records) for tp, records in fetched.items())
                )
                offsets = {tp: nxt for tp, nxt in done if nxt is not None}
                if offsets:
                    await self._consumer.commit(offsets)
        finally:
            if self._warm_start is not None:
                self._warm_start.cancel()
            await self._consumer.stop()
            await self.producer.stop()

    async def _partition(
        self, tp: TopicPartition, records: list[object]
    ) -> tuple[TopicPartition, int | None]:
        provider = self._owners[tp.topic]
        feedback = topics.feedback_topic(provider.id, self._namespace)
        next_offset = None
        for rec in records:
            metrics.INBOUND_RECORDS.labels(provider.id).inc()
            value: bytes = rec.value or b""  # type: ignore[attr-defined]
            ack = await self._pipeline.handle(provider, value)
            if not ack.batch_id:
                # An undecodable batch has no id of its own: answer under the record's key (the
                # SDK keys each record by its batch id), so the sender can still match it.
                ack.batch_id = _text(rec.key)  # type: ignore[attr-defined]
            await self._send_feedback(feedback, ack, tp.partition, rec.offset)  # type: ignore[attr-defined]
            next_offset = rec.offset + 1  # type: ignore[attr-defined]
        return tp, next_offset

    async def _send_feedback(
        self, topic: str, ack: pb.BatchAck, partition: int, offset: int
    ) -> None:
        """Retries until the broker takes it: an inbound record is never committed without its
        feedback."""
        headers = [
            (topics.HEADER_INBOUND_PARTITION, str(partition).encode()),
            (topics.HEADER_INBOUND_OFFSET, str(offset).encode()),
        ]
        delay = 0.2
        while not await self.producer.send(
            topic, ack.batch_id.encode(), ack.SerializeToString(), headers
        ):
            log.warning("feedback to %s not acknowledged; retrying in %.1fs", topic, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


def _text(key: bytes | None) -> str:
    try:
        return (key or b"").decode("utf-8")
    except UnicodeDecodeError:
        return ""
