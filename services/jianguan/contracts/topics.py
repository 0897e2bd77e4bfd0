"""Kafka topic names and record layout, versioned with the contract."""

from __future__ import annotations

# A provider's own topics are named by the SDK, which provider code imports.
from jianguan_sdk.topics import feedback_topic, inbound_topic, topic_name

__all__ = ["feedback_topic", "inbound_topic", "topic_name"]

EVENTS = "jg.events.v1"
CASES = "jg.cases.v1"
# One jianguan.v1.Alerts per record (the alerts one batch of input raised); key: provider id.
# (v1 carried one Alert per record.)
ALERTS = "jg.alerts.v2"
# One jianguan.v1.IngestOutcome per handled batch (key: provider id), from every ingest path.
OUTCOMES = "jg.ingest-outcomes.v1"
# One jianguan.v1.ChainHeadRecord per record: where a chain stands (compacted; key: the chain).
CHAIN_HEADS = "jg.chain-heads.v1"
# Complaints made to an authority (Art. 18), recorded by regulators; key: provider id.
AUTHORITY_COMPLAINTS = "jg.authority-complaints.v1"
# Dispositions of offshore services (Art. 20), recorded by regulators; key: the target.
OFFSHORE_DISPOSITIONS = "jg.offshore-dispositions.v1"
# Orders to correct (Art. 21) and inspection requests (Art. 19), one jianguan.v1.AuthorityAction
# per record, recorded by regulators; key: provider id (co-partitioned with the events: the rules
# read both).
AUTHORITY_ACTIONS = "jg.authority-actions.v1"
# The recording authority's id, from its credential (never from the payload).
HEADER_AUTHORITY = "jg-authority"
# Records a consumer of the platform gave up on (jianguan.v1.DeadLetter), kept by the store in its
# quarantine table (kafka_io.consumer_loop).
DEAD_LETTERS = "jg.dead-letters.v1"
# The rules' clock: a tick per provider every few seconds (header jg-tick, no value), keyed by
# provider like every other input of the rules, so deadlines expire while a provider is silent.
RULE_INPUT = "jg.rule-input.v1"
HEADER_TICK = "jg-tick"

# Every co-partitioned topic has the same partition count (faust requires it; adding partitions
# later would move keys between partitions, so topics are created with their final count).
PARTITIONS = 6

# Record headers on jg.events.v1. The value is a serialized jianguan.v1.EventBatch whose events
# all belong to one (provider, service); the provider comes from the gateway's authentication.
HEADER_PROVIDER = "jg-provider"
HEADER_RECEIVED_MS = "jg-received-ms"
HEADER_SCHEMA = "jg-schema"
SCHEMA_EVENT_BATCH = b"jianguan.v1.EventBatch"


# Direct Kafka ingest: one inbound and one feedback topic per registered provider. Inbound
# records carry the same serialized EventBatch the gRPC service takes; feedback records carry the
# BatchAck for the inbound record (key: its batch_id) and where it came from (headers).
INBOUND_PARTITIONS = 3
HEADER_INBOUND_PARTITION = "jg-inbound-partition"
HEADER_INBOUND_OFFSET = "jg-inbound-offset"


def event_headers(provider_id: str, received_ms: int) -> list[tuple[str, bytes]]:
    """Headers of a jg.events.v1 record; only jianguan's ingest paths write that topic."""
    return [
        (HEADER_PROVIDER, provider_id.encode()),
        (HEADER_RECEIVED_MS, str(received_ms).encode()),
        (HEADER_SCHEMA, SCHEMA_EVENT_BATCH),
    ]


# The faust app of the processors, and the topics it needs, created by the platform before the
# worker starts (the brokers never auto-create): the leader topic and one changelog per table.
PROCESSORS_APP_ID = "jianguan-processors"
# Units of rule state (processors.engine); named for their encoding, so a new encoding starts a
# new changelog and the processors rebuild it from the event store (v3: complaint receipts are
# indexed in the state).
RULE_STATE_TABLE = "rule-units-v3"
# A table's changelog keeps the last write of each key, however old (a unit untouched for a week
# is still state; deleting by age would lose it on the next restore), and nothing else: a restore
# reads one record per key. Segments roll at 64 MiB so that compaction has closed segments to
# work on long before the default 1 GiB.
COMPACTED = {"cleanup.policy": "compact", "segment.bytes": str(64 * 2**20)}


# The consumer group of each store sink, by the topic it reads (one home: the sinks join them,
# tests and tools read their committed offsets).
SINK_GROUPS = {
    EVENTS: "jianguan-event-store",
    OUTCOMES: "jianguan-ingest-outcomes",
    CASES: "jianguan-cases",
    ALERTS: "jianguan-alerts",
    OFFSHORE_DISPOSITIONS: "jianguan-offshore-dispositions",
    AUTHORITY_COMPLAINTS: "jianguan-authority-complaints",
    AUTHORITY_ACTIONS: "jianguan-authority-actions",
    DEAD_LETTERS: "jianguan-dead-letters",
}


def processors_app_id(namespace: str = "") -> str:
    return topic_name(PROCESSORS_APP_ID, namespace)


def processors_internal_topics(
    namespace: str = "", partitions: int = PARTITIONS
) -> dict[str, tuple[int, dict[str, str]]]:
    """Name → (partitions, topic configuration) of the processors' own topics (the rules' state
    changelog co-partitioned with the events)."""
    base = processors_app_id(namespace)
    return {
        f"{base}-__assignor-__leader": (1, {}),
        f"{base}-{RULE_STATE_TABLE}-changelog": (partitions, COMPACTED),
    }


def record_key(provider_id: str) -> bytes:
    """Partitioning key of jg.events.v1: one provider's events stay in one partition, hence in
    order, and beside its rule state (its cases span its services: a user, a report citing a
    hit of another service)."""
    return provider_id.encode()
