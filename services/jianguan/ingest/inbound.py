"""Direct Kafka ingest: providers' inbound topics → the shared ingest pipeline → events topic,
with a feedback record for every inbound record.

The provider is the owner of the topic the record was read from (on a production cluster, ACLs
let each provider principal write only its own inbound topic), never a value in the payload.
Offsets are committed only after the accepted events and the feedback record were acknowledged
by the broker; a crash in between re-reads the record: its events are answered DUPLICATE while
the validator remembers them, and are stored once in any case. A record the pipeline fails on
every time is given up as a dead letter (``kafka_io.consumer_loop``), never retried forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from aiokafka import TopicPartition

from jianguan import metrics
from jianguan.accounts.registry import Provider, ProviderRegistry
from jianguan.accounts.registry_watch import RegistrySource
from jianguan.contracts import pb, topics
from jianguan.domain.dedup import RecentIds
from jianguan.domain.ratelimit import RateLimiter
from jianguan.ingest.admission import Admission
from jianguan.ingest.chain_book import ChainBook
from jianguan.ingest.pipeline import IngestPipeline
from jianguan.ingest.warm_start import KnownIds, remember_known_ids
from jianguan.kafka_io.consumer_loop import ConsumerLoop, DeadLetterTopic, FinishedInOrder
from jianguan.kafka_io.producer import EventLogProducer
from jianguan_sdk.validation import DEFAULT_LIMITS

log = logging.getLogger(__name__)


class InboundValidator:
    """A consumer loop (``kafka_io.consumer_loop``) over every registered provider's inbound
    topic, each record judged by the ingest pipeline and answered on the provider's feedback
    topic before its offset is committed."""

    def __init__(
        self,
        bootstrap: str,
        registry: RegistrySource,
        namespace: str = "",
        group: str = "jianguan-inbound",
        known_ids: KnownIds | None = None,
        dedup_capacity: int = 2_000_000,
        dedup_max_bytes: int | None = None,
        attempts: int = 5,
    ) -> None:
        self._namespace = namespace
        self._registry = registry
        self._read = registry.current()
        self._owners = self._owners_in(self._read)
        self._known_ids = known_ids
        self._warm_start: asyncio.Task[int] | None = None
        self.dedup = RecentIds(dedup_capacity, dedup_max_bytes)
        self.producer = EventLogProducer(
            bootstrap,
            topics.topic_name(topics.EVENTS, namespace),
            topics.topic_name(topics.OUTCOMES, namespace),
        )
        self.chains = ChainBook(bootstrap, namespace)
        self._pipeline = IngestPipeline(
            Admission(self.dedup, RateLimiter(), DEFAULT_LIMITS),
            self.producer,
            path="kafka",
            chains=self.chains,
        )
        self._chains_start: asyncio.Task[None] | None = None
        self._finished = FinishedInOrder()
        self.loop = ConsumerLoop(
            "inbound-validator",
            bootstrap,
            group,
            self.inbound_topics,
            self,
            DeadLetterTopic(self.producer, topics.topic_name(topics.DEAD_LETTERS, namespace)),
            who=self._writer,
            attempts=attempts,
        )

    @property
    def inbound_topics(self) -> list[str]:
        return sorted(self._owners)

    def _owners_in(self, registry: ProviderRegistry) -> dict[str, Provider]:
        return {topics.inbound_topic(p.id, self._namespace): p for p in registry.providers}

    def _writer(self, record: Any) -> str:
        owner = self._owners.get(record.topic)
        return "" if owner is None else owner.id

    async def start(self) -> None:
        if self._known_ids is not None:
            self._warm_start = asyncio.create_task(
                remember_known_ids(self.dedup, self._known_ids, "kafka inbound")
            )
        await self.producer.start()
        self._chains_start = asyncio.create_task(self.chains.start_when_possible())
        await self.loop.start()

    def request_stop(self) -> None:
        self.loop.request_stop()

    async def run(self) -> None:
        try:
            await self.loop.run()
        finally:
            if self._warm_start is not None:
                self._warm_start.cancel()
            if self._chains_start is not None:
                self._chains_start.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._chains_start
            await self.chains.stop()
            await self.producer.stop()

    # -- the strategy of the consumer loop ---------------------------------------------------

    async def submit(self, record: Any) -> None:
        provider = self._owners.get(record.topic)
        if provider is None:
            # Its provider was revoked since the record was fetched: not judged, not answered.
            metrics.INBOUND_REVOKED.inc()
            self._finished.finished(record)
            return
        metrics.INBOUND_RECORDS.labels(provider.id).inc()
        # Each record may follow one another process answered (a partition moved here).
        ack = await self._pipeline.handle(provider, record.value or b"", fresh=True)
        if not ack.batch_id:
            # An undecodable batch has no id of its own: answer under the record's key (the
            # SDK keys each record by its batch id), so the sender can still match it.
            ack.batch_id = _text(record.key)
        feedback = topics.feedback_topic(provider.id, self._namespace)
        await self._send_feedback(feedback, ack, record.partition, record.offset)
        self._finished.finished(record)

    def skip(self, record: Any) -> None:
        self._finished.finished(record)

    def committable(self) -> Mapping[TopicPartition, int]:
        return self._finished.committable()

    async def flush(self) -> None:
        pass  # every record is finished within submit

    async def poll(self) -> None:
        """Follow the registry: a provider registered while running is read from its inbound
        topic within seconds, a revoked one no more."""
        registry = self._registry.current()
        if registry is not self._read:
            self._read = registry
            self._owners = self._owners_in(registry)
            self.loop.subscribe(self.inbound_topics)

    async def _send_feedback(
        self, topic: str, ack: pb.BatchAck, partition: int, offset: int
    ) -> None:
        """Retries until the broker takes it: an inbound record is never committed without its
        feedback."""
        headers = [
            (topics.HEADER_INBOUND_PARTITION, str(partition).encode()),
            (topics.HEADER_INBOUND_OFFSET, str(offset).encode()),
        ]
        await self.producer.send_until_acknowledged(
            topic, ack.batch_id.encode(), ack.SerializeToString(), headers
        )


def _text(key: bytes | None) -> str:
    try:
        return (key or b"").decode("utf-8")
    except UnicodeDecodeError:
        return ""
