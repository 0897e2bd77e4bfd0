"""The scenario library's store-check expectations, on both engines: exactly the expected
alerts for each scenario's provider, and none for the others."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from jianguan.contracts import pb
from jianguan.processors.monitor import run_checks
from jianguan.runtime.clickhouse import ClickHouseServer
from jianguan.store.executor import ChdbExecutor, Executor, ServerExecutor
from jianguan.store.migrate import migrate
from jianguan.store.processor import ColumnBatch, RecordMeta
from jianguan.store.writer import BatchWriter
from tests.scenarios.library import Scenario, load_all


def expected_matches(scenario: Scenario, alerts: list[pb.cases_pb2.Alert]) -> None:
    ids = {ev.envelope.event_id for ev in scenario.events}
    # an offshore alert belongs to no provider: it is the scenario's when it cites its events
    got = {
        a.rule_id: list(a.evidence)
        for a in alerts
        if a.provider_id == scenario.provider_id or (a.provider_id == "" and set(a.evidence) <= ids)
    }
    assert set(got) == set(scenario.alerts), scenario.name
    for rule, evidence in scenario.alerts.items():
        if evidence is not None:
            assert got[rule] == evidence, (scenario.name, rule)


def check_all(executor: Executor) -> None:
    migrate(executor)
    scenarios = load_all()
    batch = ColumnBatch()
    for s in scenarios:
        raw = pb.EventBatch(events=s.events).SerializeToString()
        batch.add_record(raw, RecordMeta(s.provider_id, 0, 0, 0), 0)
    BatchWriter(executor).write(batch)
    alerts = run_checks(executor, time.time())
    for s in scenarios:
        expected_matches(s, alerts)


@pytest.fixture
def server(clickhouse: ClickHouseServer) -> Iterator[Executor]:
    ex = ServerExecutor(
        clickhouse.url("writer", f"sc_{uuid.uuid4().hex[:10]}"), create_database=True
    )
    try:
        yield ex
    finally:
        ex.close()


def test_scenarios_on_clickhouse_server(server: Executor) -> None:
    check_all(server)


def test_scenarios_on_chdb(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ex = ChdbExecutor(f"sc_{uuid.uuid4().hex[:10]}", str(tmp_path / "chdb"))
    try:
        check_all(ex)
    finally:
        ex.close()
