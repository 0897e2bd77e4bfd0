"""Names of a provider's own Kafka topics (direct Kafka ingest): one inbound and one feedback
topic per registered provider. Inbound records carry the serialized EventBatch the gRPC service
takes; feedback records carry the BatchAck for the inbound record (key: its batch_id)."""

from __future__ import annotations


def topic_name(base: str, namespace: str = "") -> str:
    """A topic name, optionally prefixed (a deployment or test may give its topics a namespace)."""
    return f"{namespace}.{base}" if namespace else base


def inbound_topic(provider_id: str, namespace: str = "") -> str:
    return topic_name(f"jg.inbound.{provider_id}.v1", namespace)


def feedback_topic(provider_id: str, namespace: str = "") -> str:
    return topic_name(f"jg.feedback.{provider_id}.v1", namespace)
