"""One storage contract, every adapter: the ClickHouse server (Debian, 18.16) and chDB."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from jianguan.contracts import pb
from jianguan.runtime.clickhouse import ClickHouseServer
from jianguan.store.cases import CaseFactBatch
from jianguan.store.executor import ChdbExecutor, Executor, ServerExecutor
from jianguan.store.migrate import Migration, MigrationError, bundled, migrate
from jianguan.store.outcomes import OutcomeBatch
from jianguan.store.processor import ColumnBatch, RecordMeta
from jianguan.store.writer import BatchWriter
from tests.helpers import chained


def _rows(n: int) -> ColumnBatch:
    events = chained("w", n)
    events[0].moderation.stage = 2  # type: ignore[assignment]
    events[0].moderation.risk_category = 8  # type: ignore[assignment]
    events[0].moderation.action = 3  # type: ignore[assignment]
    events[0].moderation.detector = "d'quote\\slash"
    batch = ColumnBatch()
    raw = pb.EventBatch(batch_id="b", events=events).SerializeToString()
    batch.add_record(raw, RecordMeta("acme-ai", int(time.time()), 1, 42), int(time.time()))
    return batch


class StoreContract:
    """Subclasses provide ``executor``: a fresh, empty database."""

    def test_migrations_apply_once(self, executor: Executor) -> None:
        assert [m.version for m in migrate(executor)] == [m.version for m in bundled()]
        assert migrate(executor) == []
        versions = executor.execute("SELECT version FROM schema_migrations ORDER BY version")
        assert [v[0] for v in versions] == [m.version for m in bundled()]

    def test_edited_migration_is_refused(self, executor: Executor) -> None:
        migrate(executor)
        first = bundled()[0]
        with pytest.raises(MigrationError, match="changed after it was applied"):
            migrate(executor, [Migration(first.version, first.name, first.sql + "\n-- edit\n")])

    def test_same_batch_twice_gives_the_same_rows(self, executor: Executor) -> None:
        migrate(executor)
        writer = BatchWriter(executor)
        batch = _rows(5)
        writer.write(batch)
        once = executor.execute(
            "SELECT event_id, kind, sequence, detector FROM events_unique ORDER BY sequence"
        )
        writer.write(batch)
        twice = executor.execute(
            "SELECT event_id, kind, sequence, detector FROM events_unique ORDER BY sequence"
        )
        assert once == twice
        assert len(once) == 5
        assert once[0][1] == "moderation"
        assert once[0][3] == "d'quote\\slash"
        assert executor.execute("SELECT count() FROM events_unique")[0][0] == 5

    def test_payload_round_trips(self, executor: Executor) -> None:
        migrate(executor)
        batch = _rows(2)
        BatchWriter(executor).write(batch)
        rows = executor.execute(
            "SELECT provider_id, length(payload) FROM events FINAL WHERE event_id = %(e)s",
            {"e": "w-1"},
        )
        i = batch.data["event_id"].index("w-1")
        assert rows == [("acme-ai", len(batch.data["payload"][i]))]

    def test_ingest_outcomes_and_errors_view(self, executor: Executor) -> None:
        migrate(executor)
        outcome = pb.ingest_pb2.IngestOutcome(
            outcome_id="o1",
            provider_id="ignored",
            path="grpc",
            batch_id="b",
            received=3,
            accepted=2,
        )
        outcome.received_at.seconds = int(time.time())
        outcome.results.add(
            index=1, event_id="e1", status=pb.ingest_pb2.ITEM_STATUS_INVALID, field_path="f"
        )
        batch = OutcomeBatch()
        batch.add_record(outcome.SerializeToString(), RecordMeta("acme-ai", 0, 0, 1), 0)
        writer = BatchWriter(executor)
        writer.write(batch)
        writer.write(batch)  # redelivered
        assert executor.execute(
            "SELECT provider_id, received, accepted FROM ingest_outcomes FINAL"
        ) == [("acme-ai", 3, 2)]
        assert executor.execute(
            "SELECT event_id, toString(status), field_path FROM ingest_errors"
        ) == [("e1", "INVALID", "f")]

    def test_report_card_grades_a_provider(self, executor: Executor) -> None:
        migrate(executor)
        writer = BatchWriter(executor)
        writer.write(_rows(10))
        now = int(time.time())
        for i, (received, accepted) in enumerate(((100, 90), (50, 50))):
            outcome = pb.ingest_pb2.IngestOutcome(
                outcome_id=f"o{i}", path="grpc", batch_id="b", received=received, accepted=accepted
            )
            outcome.received_at.seconds = now
            batch = OutcomeBatch()
            batch.add_record(outcome.SerializeToString(), RecordMeta("acme-ai", 0, 0, i), 0)
            writer.write(batch)
        facts = pb.cases_pb2.CaseFacts()
        for kind, fid in ((1, "c/OPENED/"), (3, "c/DEADLINE_MISSED/report")):
            f = facts.facts.add(fact_id=fid, kind=kind, case_id="c", provider_id="acme-ai")  # type: ignore[arg-type]
            f.at.seconds = now
        cases = CaseFactBatch()
        cases.add_record(facts.SerializeToString(), RecordMeta("", 0, 0, 0), 0)
        writer.write(cases)
        rows = executor.execute(
            "SELECT provider_id, events_stored, items_submitted, items_rejected,"
            " round(error_rate, 4), days_over_error_limit, cases_opened, deadlines_missed, grade"
            " FROM report_cards"
        )
        assert rows == [("acme-ai", 10, 150, 10, 0.0667, 1, 1, 1, "C")]


class TestClickHouseServer(StoreContract):
    @pytest.fixture
    def executor(self, clickhouse: ClickHouseServer) -> Iterator[Executor]:
        ex = ServerExecutor(
            clickhouse.url("writer", f"s_{uuid.uuid4().hex[:12]}"), create_database=True
        )
        try:
            yield ex
        finally:
            ex.close()

    def test_dashboard_user_is_read_only_and_scoped(
        self, clickhouse: ClickHouseServer, executor: Executor
    ) -> None:
        own = ServerExecutor(clickhouse.url("writer", clickhouse.database), create_database=True)
        migrate(own)
        own.close()
        migrate(executor)
        ro = ServerExecutor(clickhouse.url("dashboard", clickhouse.database))
        try:
            assert ro.execute("SELECT count() FROM events_unique") == [(0,)]
            with pytest.raises(Exception, match="readonly"):
                ro.execute("CREATE TABLE x (a UInt8) ENGINE = Memory")
            with pytest.raises(Exception, match="readonly"):
                ro.execute("DROP TABLE events")
            with pytest.raises(
                Exception, match=r"Access denied|ACCESS_DENIED|Not enough privileges"
            ):
                ro.execute(f"SELECT count() FROM {executor.database}.events")
        finally:
            ro.close()


class TestChdb(StoreContract):
    @pytest.fixture
    def executor(self, tmp_path) -> Iterator[Executor]:  # type: ignore[no-untyped-def]
        ex = ChdbExecutor(f"c_{uuid.uuid4().hex[:12]}", str(tmp_path / "chdb"))
        try:
            yield ex
        finally:
            ex.close()
