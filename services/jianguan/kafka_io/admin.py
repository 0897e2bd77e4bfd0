"""Topic administration. Topics are created explicitly, with their final partition count (faust's
co-partitioned topics must agree) and the cluster's default replication factor; the brokers never
auto-create a topic."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Mapping
from typing import Any

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from jianguan.accounts.registry import Provider
from jianguan.contracts import topics


def ensure_topics(
    bootstrap: str,
    names: list[str],
    partitions: int,
    timeout: float = 20.0,
    configs: Mapping[str, str] | None = None,
) -> None:
    """Creates the missing topics; ``configs`` (topic-level settings) are given to the new ones
    and set again on those that exist, so a topic created before (or by hand) gets them too."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="jianguan-admin")
            break
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    try:
        existing = set(admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                # replication_factor -1: the cluster's default.replication.factor
                admin.create_topics(
                    [
                        NewTopic(n, partitions, -1, topic_configs=dict(configs or {}))
                        for n in missing
                    ],
                    wait_for_metadata=True,
                )
        present = [n for n in names if n in existing]
        if configs and present:
            resources = [
                ConfigResource(ConfigResourceType.TOPIC, n, dict(configs)) for n in present
            ]
            _raise_errors(admin.alter_configs(resources))
    finally:
        admin.close()


class PartitionsDiffer(RuntimeError):
    """The platform's topics exist with another partition count than the one asked for."""


def partitions_of(bootstrap: str, name: str) -> int | None:
    """How many partitions topic ``name`` has; None when it does not exist."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        if name not in set(admin.list_topics()):
            return None
        (described,) = admin.describe_topics([name])
        return len(described["partitions"])
    finally:
        admin.close()


def ensure_platform_topics(
    bootstrap: str, namespace: str = "", partitions: int = topics.PARTITIONS
) -> None:
    """Every topic of the platform's own (events, outcomes, rules input, cases, alerts, …, the
    rules' leader and changelog topics, the chain heads) with ``partitions`` and its settings;
    what a service needs before it starts on a cluster that never auto-creates. Raises
    PartitionsDiffer, changing nothing, when the events topic exists with another count: a
    topic's partitions are never changed in place (each provider's key would move partition,
    its order and its rule state with it)."""
    events = topics.topic_name(topics.EVENTS, namespace)
    found = partitions_of(bootstrap, events)
    if found is not None and found != partitions:
        raise PartitionsDiffer(
            f"{events} has {found} partitions, JIANGUAN_PARTITIONS asks for {partitions}:"
            " existing topics keep their partitions (a provider's events would move partition);"
            f" keep JIANGUAN_PARTITIONS at {found}, or move to new topics"
            " (JIANGUAN_TOPIC_NAMESPACE) with the new count"
        )
    names = [
        topics.EVENTS, topics.OUTCOMES, topics.RULE_INPUT, topics.CASES, topics.ALERTS,
        topics.AUTHORITY_COMPLAINTS, topics.AUTHORITY_ACTIONS, topics.OFFSHORE_DISPOSITIONS,
        topics.DEAD_LETTERS,
    ]  # fmt: skip
    ensure_topics(bootstrap, [topics.topic_name(t, namespace) for t in names], partitions)
    internal = topics.processors_internal_topics(namespace, partitions)
    # Where every chain stands (the ingest processes would create it too).
    internal[topics.topic_name(topics.CHAIN_HEADS, namespace)] = (partitions, topics.COMPACTED)
    for name, (count, configs) in internal.items():
        ensure_topics(bootstrap, [name], count, configs=configs)


def ensure_provider_topics(
    bootstrap: str, providers: Iterable[Provider], namespace: str = ""
) -> None:
    """Each provider's inbound and feedback topics (direct Kafka ingest)."""
    names = []
    for p in providers:
        names += [topics.inbound_topic(p.id, namespace), topics.feedback_topic(p.id, namespace)]
    if names:
        ensure_topics(bootstrap, names, topics.INBOUND_PARTITIONS)


def _raise_errors(results: Any) -> None:
    """alter_configs answers {resource type: {name: "OK" or the broker's error}}."""
    for per_name in (results or {}).values():
        for name, outcome in per_name.items():
            if outcome != "OK":
                raise RuntimeError(f"topic {name}: its configuration was refused: {outcome}")
