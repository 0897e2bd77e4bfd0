"""The platform's Kafka consumers and its batch producer, configured in one place (must be
created inside the running event loop: aiokafka clients bind to it)."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


def committing_consumer(bootstrap: str, group: str) -> AIOKafkaConsumer:
    """A group member that commits only what its owner says is done (at-least-once), starts
    from the beginning of a topic it has never read, and leaves a dead member's partitions to
    the others within seconds."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=32 * 1024 * 1024,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=2_000,
    )


def batch_producer(bootstrap: str) -> AIOKafkaProducer:
    """A producer for record batches built by its owner (``create_batch``/``send_batch``):
    acknowledged by every in-sync replica, idempotent (a retried batch is written once), large
    batches lingering a few milliseconds."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=512 * 1024,
        max_request_size=16 * 1024 * 1024,
    )
