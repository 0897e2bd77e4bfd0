"""Topics get the configuration the platform asks for, whether it creates them or finds them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from jianguan.contracts import topics
from jianguan.kafka_io.admin import ensure_topics
from jianguan.runtime.broker import KafkaCluster

pytestmark = pytest.mark.integration


def _configs(bootstrap: str, name: str) -> dict[str, Any]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        found = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    finally:
        admin.close()
    (per_name,) = found.values()
    return {k: v["value"] if isinstance(v, dict) else v for k, v in per_name[name].items()}


def test_a_changelog_is_compacted_when_created_and_when_found_without(
    broker: KafkaCluster,
) -> None:
    created, found = (f"changelog-{uuid.uuid4().hex[:8]}" for _ in range(2))
    ensure_topics(broker.bootstrap, [created], 2, configs=topics.COMPACTED)
    assert _configs(broker.bootstrap, created)["cleanup.policy"] == "compact"
    ensure_topics(broker.bootstrap, [found], 2)  # e.g. created by an older version
    assert _configs(broker.bootstrap, found).get("cleanup.policy") != "compact"
    ensure_topics(broker.bootstrap, [found], 2, configs=topics.COMPACTED)
    settled = _configs(broker.bootstrap, found)
    assert settled["cleanup.policy"] == "compact"
    assert settled["segment.bytes"] == str(64 * 2**20)


def test_the_rules_changelog_is_declared_compacted() -> None:
    internal = topics.processors_internal_topics("ns")
    changelog = f"ns.{topics.PROCESSORS_APP_ID}-{topics.RULE_STATE_TABLE}-changelog"
    assert internal[changelog] == (topics.PARTITIONS, topics.COMPACTED)
    assert topics.processors_internal_topics("ns", 48)[changelog] == (48, topics.COMPACTED)
