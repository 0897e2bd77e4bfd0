"""The generated Kafka configuration, ACL bindings and tool command lines (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kafka.admin import ACLOperation, ACLResourcePatternType, ResourceType

from jianguan.accounts.registry import Provider
from jianguan.cli.kafka_tools import tool_argv
from jianguan.contracts import topics
from jianguan.kafka_io.access import expected_acls
from jianguan.runtime.broker import NodePorts, new_cluster_id, node_properties


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines())


def test_a_single_node_is_its_own_quorum_with_enforced_acls() -> None:
    props = _props(node_properties(1, {1: NodePorts(9092, 9094, 9093)}, Path("/s/kafka/data")))
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert props["advertised.listeners"] == "INTERNAL://127.0.0.1:9092,PROVIDERS://127.0.0.1:9094"
    assert "PROVIDERS:SASL_PLAINTEXT" in props["listener.security.protocol.map"]
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:ANONYMOUS"
    assert props["auto.create.topics.enable"] == "false"
    assert props["log.dirs"] == "/s/kafka/data"
    assert (props["default.replication.factor"], props["min.insync.replicas"]) == ("1", "1")


def test_three_nodes_replicate_three_times_and_need_two_in_sync() -> None:
    ports = {i: NodePorts(9000 + i, 9100 + i, 9200 + i) for i in (1, 2, 3)}
    props = _props(node_properties(2, ports, Path("/d")))
    assert props["node.id"] == "2"
    assert props["controller.quorum.voters"] == (
        "1@127.0.0.1:9201,2@127.0.0.1:9202,3@127.0.0.1:9203"
    )
    assert props["listeners"].startswith("INTERNAL://127.0.0.1:9002,")
    for key in ("default.replication.factor", "offsets.topic.replication.factor"):
        assert props[key] == "3"
    assert props["min.insync.replicas"] == props["transaction.state.log.min.isr"] == "2"
    assert props["unclean.leader.election.enable"] == "false"


def test_cluster_ids_are_kafka_uuids() -> None:
    ids = {new_cluster_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) == 22 and "=" not in i and not i.startswith("-") for i in ids)


def test_a_provider_gets_exactly_its_topics_and_groups() -> None:
    acls = expected_acls([Provider("acme-ai", "Acme", token_sha256="0" * 64)], "ns")
    granted = {
        (a.principal, a.operation, a.resource_pattern.resource_type,
         a.resource_pattern.resource_name, a.resource_pattern.pattern_type)
        for a in acls
    }  # fmt: skip
    inbound, feedback = (
        topics.inbound_topic("acme-ai", "ns"),
        topics.feedback_topic("acme-ai", "ns"),
    )
    literal, prefixed = ACLResourcePatternType.LITERAL, ACLResourcePatternType.PREFIXED
    assert granted == {
        ("User:acme-ai", ACLOperation.WRITE, ResourceType.TOPIC, inbound, literal),
        ("User:acme-ai", ACLOperation.DESCRIBE, ResourceType.TOPIC, inbound, literal),
        ("User:acme-ai", ACLOperation.READ, ResourceType.TOPIC, feedback, literal),
        ("User:acme-ai", ACLOperation.DESCRIBE, ResourceType.TOPIC, feedback, literal),
        ("User:acme-ai", ACLOperation.READ, ResourceType.GROUP, f"{feedback}.", prefixed),
    }


def test_tools_get_the_bootstrap_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("jianguan.cli.kafka_tools.tool_command", lambda tool, args: [tool, *args])
    assert tool_argv("topics", ["--list"], "127.0.0.1:1") == [
        "topics", "--bootstrap-server", "127.0.0.1:1", "--list"
    ]  # fmt: skip
    given = ["--bootstrap-server", "k:9", "--list"]
    assert tool_argv("topics", given, "127.0.0.1:1") == ["topics", *given]
    assert tool_argv("storage", ["info"], "127.0.0.1:1") == ["storage", "info"]


def test_ports_are_chosen_once_per_state_directory(tmp_path: Path) -> None:
    from jianguan.runtime.broker import KafkaCluster

    first = KafkaCluster(tmp_path)
    assert KafkaCluster(tmp_path).ports == first.ports  # a restart keeps them
    fixed = KafkaCluster(tmp_path, port=19092, provider_port=19094)
    assert (fixed.bootstrap, fixed.provider_bootstrap) == ("127.0.0.1:19092", "127.0.0.1:19094")
    assert fixed.ports[1].controller == first.ports[1].controller
    three = KafkaCluster(tmp_path / "c", nodes=3)
    assert len({p.internal for p in three.ports.values()}) == 3
    assert three.bootstrap.count(",") == 2
