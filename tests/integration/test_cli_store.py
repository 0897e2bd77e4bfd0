"""`migrate`, `verify-chain` and `replay` find the embedded ClickHouse of the state directory by
themselves: no URL, no password to dig out of credentials.json."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from kafka.admin import KafkaAdminClient

from jianguan.accounts.registry import Provider, ProviderRegistry, token_digest
from jianguan.cli import main
from jianguan.contracts import topics
from jianguan.kafka_io.admin import partitions_of
from jianguan.runtime.broker import KafkaCluster
from jianguan.runtime.clickhouse import ClickHouseServer
from jianguan.store.executor import ClickHouseUrl, ServerExecutor
from jianguan.store.migrate import bundled

pytestmark = pytest.mark.integration


def test_store_commands_use_the_embedded_clickhouse_of_the_state_dir(
    clickhouse: ClickHouseServer,
    database: ClickHouseUrl,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "clickhouse").symlink_to(clickhouse.dir)  # as `jianguan up` keeps it
    monkeypatch.setenv("JIANGUAN_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("JIANGUAN_DATABASE", database.database)
    monkeypatch.delenv("JIANGUAN_CLICKHOUSE_URL", raising=False)
    assert main(["migrate"]) == 0  # every migration applied already: nothing to say
    assert capsys.readouterr().out == ""
    assert main(["verify-chain"]) == 0
    assert capsys.readouterr().err.strip() == "0 chain(s) broken"


@pytest.fixture
def prepare(
    clickhouse: ClickHouseServer,
    broker: KafkaCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[str, ClickHouseUrl, list[str]]:
    """(topic namespace, database, `jianguan prepare` argv) of a test's own."""
    namespace = f"prep{uuid.uuid4().hex[:6]}"
    url = clickhouse.url("writer", f"p_{uuid.uuid4().hex[:10]}")
    monkeypatch.setenv("JIANGUAN_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("JIANGUAN_TOPIC_NAMESPACE", namespace)
    monkeypatch.setenv("JIANGUAN_PROVIDERS_FILE", str(tmp_path / "providers.toml"))
    return (
        namespace,
        url,
        ["prepare", "--kafka", broker.bootstrap, "--clickhouse", url.secret_url()],
    )


def test_prepare_creates_topics_acls_and_schema_once(
    prepare: tuple[str, ClickHouseUrl, list[str]],
    broker: KafkaCluster,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What the services need on existing servers (systemd, Kubernetes, compose), made by one
    command, and made again harmlessly."""
    namespace, url, argv = prepare
    (tmp_path / "providers.toml").write_text(
        ProviderRegistry([Provider("prep-ai", "Prep AI", token_sha256=token_digest("t"))]).dump()
    )
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"({len(bundled())} migration(s) applied now)" in out
    assert "topics and ACLs of 1 provider(s) ready" in out
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        found = {t["name"]: len(t["partitions"]) for t in admin.describe_topics()}
    finally:
        admin.close()
    for name in (topics.EVENTS, topics.CASES, topics.ALERTS, topics.CHAIN_HEADS):
        assert found[topics.topic_name(name, namespace)] == topics.PARTITIONS, name
    assert topics.inbound_topic("prep-ai", namespace) in found
    with ServerExecutor(url) as ex:
        assert ex.execute("SELECT count() FROM schema_migrations") == [(len(bundled()),)]
    assert main(argv) == 0  # again: nothing new
    assert "(0 migration(s) applied now)" in capsys.readouterr().out
    assert main(["prepare", "--clickhouse", url.secret_url()]) == 2  # no Kafka: one line
    assert capsys.readouterr().err.startswith("error: no Kafka")


def test_prepare_makes_the_partitions_asked_and_never_changes_them(
    prepare: tuple[str, ClickHouseUrl, list[str]],
    broker: KafkaCluster,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    namespace, _, argv = prepare
    monkeypatch.setenv("JIANGUAN_PARTITIONS", "12")
    assert main(argv) == 0
    assert "(12 partitions)" in capsys.readouterr().out
    changelog = f"{topics.processors_app_id(namespace)}-{topics.RULE_STATE_TABLE}-changelog"
    for name in (topics.topic_name(topics.EVENTS, namespace), changelog):
        assert partitions_of(broker.bootstrap, name) == 12, name
    monkeypatch.setenv("JIANGUAN_PARTITIONS", "6")
    assert main(argv) == 2  # refused, nothing changed
    said = capsys.readouterr().err
    assert said.startswith("error: "), said
    assert "has 12 partitions" in said, said
    assert partitions_of(broker.bootstrap, topics.topic_name(topics.EVENTS, namespace)) == 12
