"""Real servers, started once per test session on free loopback ports, always stopped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jianguan.runtime.broker import KafkaCluster
from jianguan.runtime.clickhouse import ClickHouseServer
from jianguan.runtime.clickhouse_cluster import LocalCluster


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """One real Kafka node (KRaft) for the whole session; tests keep to their own topics."""
    b = KafkaCluster(tmp_path_factory.mktemp("kafka"))
    b.start()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture(scope="session")
def clickhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseServer]:
    server = ClickHouseServer(tmp_path_factory.mktemp("clickhouse"), database="jg_unused")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def clickhouse_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A real ClickHouse cluster: 2 shards × 2 replicas of Debian's server and one ZooKeeper, for
    the whole session; tests keep to their own databases."""
    cluster = LocalCluster(tmp_path_factory.mktemp("clickhouse-cluster"), database="jg_unused")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
