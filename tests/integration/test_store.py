"""One storage contract, every adapter: the ClickHouse server (Debian, 18.16) and chDB."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jianguan.contracts import pb
from jianguan.domain.configuration import RuleConfiguration
from jianguan.runtime.clickhouse import ClickHouseServer
from jianguan.store.cases import AlertBatch, CaseFactBatch
from jianguan.store.configurations import record
from jianguan.store.executor import ChdbExecutor, Executor, ServerExecutor
from jianguan.store.migrate import Migration, MigrationError, bundled, migrate
from jianguan.store.outcomes import OutcomeBatch
from jianguan.store.processor import ColumnBatch, RecordMeta
from jianguan.store.writer import BatchWriter
from tests.helpers import chained, generation, labeled_file


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


def _taken_in(ex: Executor, events: list[pb.event_pb2.Event], ingested: float) -> None:
    """``events`` of acme-ai, received and taken in by the event store at ``ingested``."""
    batch = ColumnBatch()
    raw = pb.EventBatch(events=events).SerializeToString()
    batch.add_record(raw, RecordMeta("acme-ai", int(ingested), 0, 0), int(ingested))
    BatchWriter(ex).write(batch)


def _labeled(
    ex: Executor, event_id: str, produce_id: str, occurred: float, ingested: float
) -> None:
    """A labeled image with ``produce_id``, stored as the event store took it in at ``ingested``."""
    _taken_in(ex, [labeled_file(event_id, produce_id, occurred)], ingested)


class _LedgerRounds:
    """Rounds of the store checks; records the seconds each read of the ledger's rows asked for."""

    def __init__(self, ex: Executor) -> None:
        self.database = ex.database
        self._ex = ex
        self.read: list[tuple[int, ...]] = []

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
        if "SELECT provider_id, produce_id, event_id" in sql and params:
            self.read.append(tuple(params.get("seconds", ("settled past",))))
        return self._ex.execute(sql, params)

    def reused(self, feed: Any, at: float) -> list[str]:
        from jianguan.processors.monitor import run_checks

        found = run_checks(self, at, feed=feed)  # type: ignore[arg-type]
        return sorted(a.alert_id.rsplit(":", 1)[1] for a in found if "ProduceID" in a.summary)


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

    def test_quarantine_keeps_what_was_set_aside(self, executor: Executor) -> None:
        from jianguan.store.quarantine import SetAside

        migrate(executor)
        writer = BatchWriter(executor)
        items = [
            SetAside(
                2, 9, 0, "acme-ai", "", "undecodable", "not a jianguan.v1.EventBatch", b"\xff"
            ),
            SetAside(2, 10, 3, "acme-ai", "e'3", "out_of_range", "events[2] x = 70000", b"\x0a"),
        ]
        writer.quarantine("events", "jg.events.v1", items, int(time.time()))
        writer.quarantine("events", "jg.events.v1", items[1:], int(time.time()))  # re-read
        rows = executor.execute(
            "SELECT kafka_offset, item, event_id, cause, length(payload) FROM quarantine FINAL"
            " ORDER BY kafka_offset"
        )
        assert rows == [(9, 0, "", "undecodable", 1), (10, 3, "e'3", "out_of_range", 1)]

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
        for kind, fid in ((1, "c/OPENED/"), (3, "c/DEADLINE_MISSED/report"), (5, "c/STATUS/")):
            f = facts.facts.add(fact_id=fid, kind=kind, case_id="c", provider_id="acme-ai")  # type: ignore[arg-type]
            f.at.seconds = now
        facts.facts[-1].obligations_missed.append("report")
        # a complaint made to the authority unmatched at the provider: not the provider's fault
        # as far as the grade can tell (Art. 18 is the user's right)
        for kind, fid in (
            (1, "a/OPENED/"), (3, "a/DEADLINE_MISSED/provider_record"), (5, "a/STATUS/"),
        ):  # fmt: skip
            f = facts.facts.add(fact_id=fid, kind=kind, case_id="a", provider_id="acme-ai")  # type: ignore[arg-type]
            f.rule_id = "ART18-AUTHORITY-COMPLAINT"
            f.at.seconds = now
        facts.facts[-1].obligations_missed.append("provider_record")
        cases = CaseFactBatch()
        cases.add_record(facts.SerializeToString(), RecordMeta("", 0, 0, 0), 0)
        writer.write(cases)
        # no grade until the grade's parameters are recorded with the rules' configuration
        assert executor.execute("SELECT grade FROM report_cards") == [("",)]
        defaults = RuleConfiguration(now - 40 * 86400)
        record(executor, defaults)
        rows = executor.execute(
            "SELECT provider_id, events_stored, items_submitted, items_rejected,"
            " round(error_rate, 4), days_over_error_limit, cases_opened, deadlines_missed, grade,"
            " grade_a_error_rate, max_error_rate, grade_b_missed_deadlines, graded_with"
            " FROM report_cards"
        )
        assert rows == [
            ("acme-ai", 10, 150, 10, 0.0667, 1, 2, 1, "C", 0.01, 0.05, 3, defaults.digest)
        ]
        # a store check's violation counts towards the grade; a withdrawn one and an offshore
        # alert (no provider of ours) do not
        alerts = pb.cases_pb2.Alerts()
        for alert_id, provider, retracted in (
            ("ART17-FILING:acme-ai:svc:svc", "acme-ai", False),
            ("ART12-LABELING:acme-ai:img:h", "acme-ai", True),
            ("ART20-OFFSHORE:::x.example", "", False),
        ):
            a = alerts.alerts.add(alert_id=alert_id, provider_id=provider, retracted=retracted)
            a.detected_at.seconds = now
        batch = AlertBatch()
        batch.add_record(alerts.SerializeToString(), RecordMeta("", 0, 0, 0), 0)
        writer.write(batch)
        assert executor.execute(
            "SELECT provider_id, deadlines_missed, violations FROM report_cards"
        ) == [("acme-ai", 1, 1)]
        peers = executor.execute(
            "SELECT provider_id, tier, peer_providers, round(peer_median_error_rate, 4)"
            " FROM report_card_peers"
        )
        assert peers == [("acme-ai", "S", 1, 0.0667)]
        # the configured thresholds decide: looser ones in force before the month ends give B
        # (and no day over the daily limit); ones that take effect only after it change nothing
        looser = RuleConfiguration(
            now - 60, {"ART16-GRADE": {"max_error_rate": 0.1, "grade_b_missed_deadlines": 5}}
        )
        record(executor, looser)
        graded = (
            "SELECT grade, days_over_error_limit, max_error_rate, graded_with FROM report_cards"
        )
        assert executor.execute(graded) == [("B", 0, 0.1, looser.digest)]
        month = datetime.fromtimestamp(now, UTC).replace(day=1, hour=0, minute=0, second=0)
        after = (month + timedelta(days=32)).replace(day=1).timestamp()
        record(executor, RuleConfiguration(after + 1))
        assert executor.execute(graded) == [("B", 0, 0.1, looser.digest)]
        by_article = executor.execute(
            "SELECT provider_id, article, cases_opened, cases_open, deadlines_missed"
            " FROM report_card_articles"
        )
        assert by_article == [("acme-ai", "", 2, 2, 2)]

    def test_late_reports_are_counted_with_the_lag_in_force(self, executor: Executor) -> None:
        """The report card counts the events of each month (of occurrence) received at least
        ``late_report_hours`` after they occurred, to the minute, with the value in force at the
        month's end; a resent copy of a stored event is counted by the summary as stored."""
        migrate(executor)
        now = int(time.time())
        start = datetime.fromtimestamp(now, UTC).replace(day=1, hour=1, minute=0, second=0)
        occurred = int(start.timestamp())
        hour = 3600
        for n, lag in enumerate((0, hour, 24 * hour - 60, 24 * hour, 72 * hour, 400 * 24 * hour)):
            batch = ColumnBatch()
            raw = pb.EventBatch(events=[generation(f"g{n}", now=occurred)]).SerializeToString()
            batch.add_record(raw, RecordMeta("acme-ai", occurred + lag, 0, n), occurred + lag)
            BatchWriter(executor).write(batch)
        late = "SELECT provider_id, late_reports, late_report_hours FROM report_cards"
        assert executor.execute(late) == [("acme-ai", 0, 0.0)]  # not graded: nothing recorded
        record(executor, RuleConfiguration(now - 40 * 86400))
        assert executor.execute(late) == [("acme-ai", 3, 24.0)]  # 24 h, 72 h, 400 days
        # a longer lag in force at the month's end: only 72 h and over
        looser = RuleConfiguration(now - 60, {"ART16-GRADE": {"late_report_hours": 72}})
        record(executor, looser)
        assert executor.execute(late) == [("acme-ai", 2, 72.0)]
        # the summary holds each stored event once (raw rows)
        assert executor.execute("SELECT sum(events) FROM reporting_lags") == [(6,)]

    def test_a_case_is_its_latest_status(self, executor: Executor) -> None:
        """``cases`` reads case_heads, which keep the highest revision of each case's STATUS;
        facts stored before STATUS existed get their head from their steps when the migration
        runs."""
        bundle = bundled()
        before = [m for m in bundle if m.name != "case_heads" and m.version < 29]
        migrate(executor, before)
        writer = BatchWriter(executor)

        def write(*facts: pb.cases_pb2.CaseFact) -> None:
            batch = CaseFactBatch()
            record = pb.cases_pb2.CaseFacts(facts=facts).SerializeToString()
            batch.add_record(record, RecordMeta("", 0, 0, 0), 0)
            writer.write(batch)

        def fact(case: str, kind: int, revision: int, obligation: str = "") -> Any:
            f = pb.cases_pb2.CaseFact(
                fact_id=f"{case}/{kind}/{obligation}", kind=kind, case_id=case,  # type: ignore[arg-type]
                provider_id="acme-ai", rule_id="ART15-COMPLAINT", obligation=obligation,
                event_id=f"{case}-trigger", revision=revision,
            )  # fmt: skip
            f.at.seconds = 1_780_000_000
            return f

        # a case opened and acknowledged before 0029 (the table has no STATUS columns yet)
        executor.execute(
            "INSERT INTO case_facts (provider_id, case_id, fact_id, kind, obligation, event_id,"
            " at, dues.obligation, dues.due, revision)"
            " SELECT 'acme-ai', 'old', concat('old/', toString(number)), 1 + number,"
            " if(number = 1, 'acknowledge', ''), 'old-trigger', toDateTime(1780000000),"
            " ['acknowledge', 'resolve'], [toDateTime(1780000100), toDateTime(1780000900)], 1"
            " FROM numbers(2)"
        )
        migrate(executor)  # 0029 and on: the head of "old" comes from its steps
        status = fact("c", 5, 1)
        status.due.seconds = 1_780_000_100
        write(fact("c", 1, 1), status)
        later = fact("c", 5, 2)
        later.obligations_met.append("acknowledge")
        later.obligations_missed.append("resolve")
        later.closed_at.seconds = 1_780_000_500
        write(later)
        write(status)  # an older revision redelivered: changes nothing
        gone = fact("g", 5, 3)
        write(gone, pb.cases_pb2.CaseFact(
            fact_id=gone.fact_id, kind=5, case_id="g", provider_id="acme-ai", revision=4,  # type: ignore[arg-type]
            retracted=True,
        ))  # fmt: skip
        # what merges keep (they may run any time): the highest revision of each case
        latest = executor.execute(
            "SELECT case_id, max(revision), argMax(retracted, revision) FROM case_heads"
            " GROUP BY case_id ORDER BY case_id"
        )
        assert latest == [("c", 2, 0), ("g", 4, 1), ("old", 0, 0)]
        rows = executor.execute(
            "SELECT case_id, trigger_event_id, toUInt32(opened_at), obligations_met,"
            " obligations_missed, deadlines_missed, closed, toUInt32(closed_at),"
            " toUInt32(next_due) FROM cases ORDER BY case_id"
        )
        assert rows == [
            ("c", "c-trigger", 1_780_000_000, ["acknowledge"], ["resolve"], 1, 1, 1_780_000_500, 0),
            ("old", "old-trigger", 1_780_000_000, ["acknowledge"], [], 0, 0, 0, 1_780_000_900),
        ]

    def test_the_console_reads_the_report_cards_of_the_last_round(self, executor: Executor) -> None:
        """Each round records the report cards as they stand; readers see the latest round only,
        and rounds of days past keeping are dropped."""
        from jianguan.store import report_cards
        from jianguan.store.oversight import Oversight

        migrate(executor)
        now = int(time.time())
        record(executor, RuleConfiguration(now - 40 * 86400))
        writer = BatchWriter(executor)
        writer.write(_rows(3))
        old = now - (report_cards.KEEP_DAYS + 2) * 86400  # a whole day past keeping
        report_cards.snapshot(executor, old)
        report_cards.snapshot(executor, now - 60)
        q = Oversight(executor)
        (card,) = q.report_cards("acme-ai")
        assert (card.grade, card.events_stored, card.deadlines_missed) == ("A", 3, 0)
        # a missed deadline: not shown until the next round records it
        facts = pb.cases_pb2.CaseFacts()
        for kind, fid in ((1, "c/OPENED/"), (3, "c/DEADLINE_MISSED/report"), (5, "c/STATUS/")):
            f = facts.facts.add(fact_id=fid, kind=kind, case_id="c", provider_id="acme-ai")  # type: ignore[arg-type]
            f.at.seconds = now
        batch = CaseFactBatch()
        batch.add_record(facts.SerializeToString(), RecordMeta("", 0, 0, 0), 0)
        writer.write(batch)
        assert [c.deadlines_missed for c in q.report_cards("acme-ai")] == [0]
        report_cards.snapshot(executor, now)
        assert [(c.grade, c.deadlines_missed) for c in q.report_cards("acme-ai")] == [("B", 1)]
        assert [(g.grade, g.providers) for g in q.grades(None)] == [("B", 1)]
        # each round's rows once (raw), the round of three days ago dropped with its day
        rounds = executor.execute(
            "SELECT toUInt32(taken), count() FROM report_card_snapshots GROUP BY taken"
            " ORDER BY taken"
        )
        assert rounds == [(now - 60, 1), (now, 1)]

    def test_store_checks_find_each_violation(self, executor: Executor) -> None:
        from jianguan.processors.monitor import run_checks

        migrate(executor)
        two_hours_ago = time.time() - 2 * 3600
        events = []
        for i in range(10):  # 10 images, one without a valid implicit label
            produce_id = "000000" if i == 3 else f"pid-{i:06d}"
            events.append(labeled_file(f"img-{i}", produce_id, two_hours_ago, "svc-img"))
        reg = generation("reg", now=two_hours_ago, service="svc-img")
        f = reg.service_filing
        f.kind, f.status = (
            pb.bodies_pb2.FILING_KIND_REGISTRATION,
            pb.bodies_pb2.FILING_STATUS_GRANTED,
        )
        f.public_opinion_attribute = True
        off = generation("obs-1", now=two_hours_ago, service="monitoring")
        o = off.offshore_observation
        o.observer, o.target, o.jurisdiction = "CAC monitoring", "chat.example.com", "US"
        o.estimated_domestic_users = 2_000_000
        batch = ColumnBatch()
        raw = pb.EventBatch(events=[*events, reg, off]).SerializeToString()
        batch.add_record(raw, RecordMeta("acme-ai", 0, 0, 0), 0)
        BatchWriter(executor).write(batch)
        alerts = {a.rule_id: a for a in run_checks(executor, time.time())}
        assert set(alerts) == {"ART12-LABELING", "ART17-FILING", "ART20-OFFSHORE"}
        assert list(alerts["ART12-LABELING"].evidence) == ["img-3"]
        assert "labeled 9 of 10" in alerts["ART12-LABELING"].summary
        assert "; unlabeled: 1 no valid ProduceID (Art. 12)" in alerts["ART12-LABELING"].summary
        # the assessment is due before serving; the algorithm filing has 10 working days
        summary = alerts["ART17-FILING"].summary
        assert "no security assessment in effect (due" in summary
        assert "before serving began" in summary
        assert "no algorithm filing" not in alerts["ART17-FILING"].summary
        assert alerts["ART20-OFFSHORE"].severity == "critical"
        # about the offshore service, not the provider that observed it
        assert alerts["ART20-OFFSHORE"].alert_id == "ART20-OFFSHORE:::chat.example.com"
        assert "seen 1 times by one reporter" in alerts["ART20-OFFSHORE"].summary
        # each alert keeps the parameter values it was decided with, the calendar where working
        # days were counted, and the store keeps them
        assert [(p.name, p.value) for p in alerts["ART12-LABELING"].parameters] == [
            ("min_labeled_share", "0.999")
        ]
        filing = [(p.name, p.value) for p in alerts["ART17-FILING"].parameters]
        assert filing[:2] == [("filing_working_days", "10"), ("assessment_working_days", "0")]
        assert filing[2][0] == "calendar"
        batch = AlertBatch()
        value = pb.cases_pb2.Alerts(alerts=list(alerts.values())).SerializeToString()
        batch.add_record(value, RecordMeta("", 0, 0, 0), 0)
        BatchWriter(executor).write(batch)
        assert executor.execute(
            "SELECT parameters.name, parameters.value FROM alerts WHERE rule_id = 'ART12-LABELING'"
        ) == [(["min_labeled_share"], ["0.999"])]

    def test_an_offshore_service_seen_by_two_providers_is_one_alert(
        self, executor: Executor
    ) -> None:
        from jianguan.processors.monitor import run_checks

        migrate(executor)
        batch = ColumnBatch()
        for n, (provider, target) in enumerate(
            (("acme-ai", "Chat.Example.com"), ("beta-ai", "chat.example.com"))
        ):
            obs = generation(f"obs-{n}", now=time.time() - 3600, service="monitoring")
            o = obs.offshore_observation
            o.observer, o.target, o.jurisdiction = "monitoring", target, "US"
            o.estimated_domestic_users = 20_000 * (n + 1)
            raw = pb.EventBatch(events=[obs]).SerializeToString()
            batch.add_record(raw, RecordMeta(provider, 0, n, 0), 0)
        BatchWriter(executor).write(batch)
        (alert,) = [a for a in run_checks(executor, time.time()) if a.rule_id == "ART20-OFFSHORE"]
        assert alert.alert_id == "ART20-OFFSHORE:::chat.example.com"
        assert alert.provider_id == ""
        assert sorted(alert.evidence) == ["obs-0", "obs-1"]
        assert "an estimated 40000 domestic users" in alert.summary
        assert "seen 2 times by 2 reporters" in alert.summary

    def test_an_offshore_service_showing_no_filing_in_effect_is_unfiled(
        self, executor: Executor
    ) -> None:
        from jianguan.processors.monitor import run_checks

        migrate(executor)
        now = time.time()
        events = []

        def filing(event_id: str, at: float, number: str, kind: int, status: int) -> None:
            ev = generation(event_id, now=at, service="svc")
            f = ev.service_filing
            f.kind, f.status, f.filing_number = kind, status, number  # type: ignore[assignment]
            events.append(ev)

        B = pb.bodies_pb2
        filing(
            "f-real",
            now - 7200,
            "Beijing-Real-001",
            B.FILING_KIND_ALGORITHM_FILING,
            B.FILING_STATUS_GRANTED,
        )
        filing(
            "f-ended",
            now - 7200,
            "Beijing-Ended-002",
            B.FILING_KIND_REGISTRATION,
            B.FILING_STATUS_GRANTED,
        )
        filing(
            "f-end",
            now - 3600,
            "Beijing-Ended-002",
            B.FILING_KIND_CANCELLATION,
            B.FILING_STATUS_GRANTED,
        )
        filing(
            "f-late",
            now - 600,
            "Beijing-Late-003",
            B.FILING_KIND_ALGORITHM_FILING,
            B.FILING_STATUS_GRANTED,
        )
        filing(
            "f-asked",
            now - 7200,
            "Beijing-Asked-004",
            B.FILING_KIND_ALGORITHM_FILING,
            B.FILING_STATUS_SUBMITTED,
        )
        for target, number in (
            ("real.example", "Beijing-Real-001"),  # a filing in effect: no violation
            ("invented.example", "Beijing-Invented-999"),  # no such filing
            ("ended.example", "Beijing-Ended-002"),  # cancelled before it was seen
            ("late.example", "Beijing-Late-003"),  # granted only after it was seen
            ("asked.example", "Beijing-Asked-004"),  # submitted, never granted
            ("none.example", ""),  # shows no number
        ):
            obs = generation(f"obs-{target}", now=now - 1800, service="monitoring")
            o = obs.offshore_observation
            o.observer, o.target, o.jurisdiction = "monitoring", target, "US"
            o.estimated_domestic_users, o.filing_number_seen = 1_000, number
            events.append(obs)
        batch = ColumnBatch()
        batch.add_record(
            pb.EventBatch(events=events).SerializeToString(), RecordMeta("acme-ai", 0, 0, 0), 0
        )
        BatchWriter(executor).write(batch)
        found = {
            a.alert_id.rsplit(":", 1)[1]: a.summary
            for a in run_checks(executor, now)
            if a.rule_id == "ART20-OFFSHORE"
        }
        unfiled = [
            "asked.example",
            "ended.example",
            "invented.example",
            "late.example",
            "none.example",
        ]
        assert sorted(found) == unfiled
        assert (
            "it shows Beijing-Invented-999, no filing in effect then" in found["invented.example"]
        )
        assert "without a filing in effect; seen 1 times" in found["none.example"]
        cases = executor.execute("SELECT target FROM offshore_cases ORDER BY target")
        assert [t for (t,) in cases] == unfiled

    def test_each_unlabeled_output_says_why(self, executor: Executor) -> None:
        migrate(executor)
        breaks = {
            "no explicit label": lambda g: setattr(g, "explicit_label", False),
            "no implicit label": lambda g: g.ClearField("implicit_label"),
            'implicit label not "generated"': lambda g: setattr(
                g.implicit_label, "label", pb.bodies_pb2.AIGC_LABEL_SUSPECTED
            ),
            "no ContentProducer": lambda g: g.implicit_label.ClearField("content_producer"),
            "no valid ProduceID": lambda g: setattr(g.implicit_label, "produce_id", "0000000"),
            "": lambda g: None,  # labeled as it should be
        }
        events = []
        for n, spoil in enumerate(breaks.values()):
            ev = labeled_file(
                f"out-{n}", f"pid-{n:06d}", time.time() - 3600, "svc-vid",
                pb.bodies_pb2.OUTPUT_MODALITY_VIDEO,
            )  # fmt: skip
            spoil(ev.generation)
            events.append(ev)
        batch = ColumnBatch()
        batch.add_record(
            pb.EventBatch(events=events).SerializeToString(), RecordMeta("acme-ai", 0, 0, 0), 0
        )
        BatchWriter(executor).write(batch)
        got = dict(executor.execute("SELECT event_id, reason FROM unlabeled_outputs FINAL"))
        want = {f"out-{n}": reason for n, reason in enumerate(breaks) if reason}
        assert got == want

    def test_change_filing_check_counts_working_days(self, executor: Executor) -> None:
        from jianguan.processors.monitor import run_checks

        migrate(executor)
        day = 86400.0
        now = time.time()
        reg = generation("reg", now=now - 40 * day, service="svc-po")
        f = reg.service_filing
        f.kind = pb.bodies_pb2.FILING_KIND_REGISTRATION
        f.status = pb.bodies_pb2.FILING_STATUS_GRANTED
        f.public_opinion_attribute = True
        f.model_version = "m1"
        served = []
        for name, age in (("m1", 39), ("m2", 30), ("m3", 2)):
            ev = generation(f"gen-{name}", now=now - age * day, service="svc-po")
            ev.generation.response_model = name
            served.append(ev)
        batch = ColumnBatch()
        raw = pb.EventBatch(events=[reg, *served]).SerializeToString()
        batch.add_record(raw, RecordMeta("acme-ai", 0, 0, 0), 0)
        BatchWriter(executor).write(batch)
        alerts = [a for a in run_checks(executor, now) if a.rule_id == "ART17-CHANGE"]
        # m1 was served first (the algorithm filing's own); m3 is still within its 10 working
        # days; m2 is overdue.
        assert [a.alert_id for a in alerts] == ["ART17-CHANGE:acme-ai:svc-po:m2"]
        assert (
            "no change filing in effect; latest change filing: none reported" in alerts[0].summary
        )
        # Each later model is assessed before it serves (0 working days): m2 and m3 are not.
        unassessed = [a for a in run_checks(executor, now) if a.rule_id == "ART17-MODEL-ASSESSMENT"]
        assert [a.alert_id for a in unassessed] == [
            f"ART17-MODEL-ASSESSMENT:acme-ai:svc-po:{m}" for m in ("m2", "m3")
        ]
        assessed = generation("sa-m3", now=now - 3 * day, service="svc-po")
        a = assessed.service_filing
        a.kind = pb.bodies_pb2.FILING_KIND_SECURITY_ASSESSMENT
        a.status = pb.bodies_pb2.FILING_STATUS_SUBMITTED
        a.model_version = "m3"
        batch = ColumnBatch()
        raw = pb.EventBatch(events=[assessed]).SerializeToString()
        batch.add_record(raw, RecordMeta("acme-ai", 0, 0, 1), 0)
        BatchWriter(executor).write(batch)
        unassessed = [a for a in run_checks(executor, now) if a.rule_id == "ART17-MODEL-ASSESSMENT"]
        assert [a.alert_id for a in unassessed] == ["ART17-MODEL-ASSESSMENT:acme-ai:svc-po:m2"]
        assert "no security assessment naming it in effect" in unassessed[0].summary

    def test_orphan_checks(self, executor: Executor) -> None:
        from jianguan.processors.monitor import run_checks

        migrate(executor)
        old = time.time() - 3 * 86400
        hit = generation("hit-ok", now=old)
        hit.moderation.stage, hit.moderation.risk_category, hit.moderation.action = 2, 7, 3
        report = generation("rep-1", now=old)
        report.incident_report.authority = "CAC"
        report.incident_report.related_event_ids.extend(["hit-ok", "hit-missing"])
        status = generation("ack-1", now=old)
        c = status.complaint
        c.complaint_id, c.status, c.channel, c.category = "cmp-x", 2, 1, 9
        batch = ColumnBatch()
        raw = pb.EventBatch(events=[hit, report, status]).SerializeToString()
        batch.add_record(raw, RecordMeta("acme-ai", 0, 0, 0), 0)
        BatchWriter(executor).write(batch)
        alerts = {a.rule_id: a for a in run_checks(executor, time.time())}
        assert alerts["ART14-ORPHAN-REFERENCE"].alert_id.endswith(":hit-missing")
        assert list(alerts["ART14-ORPHAN-REFERENCE"].evidence) == ["rep-1"]
        assert alerts["ART15-ORPHAN-STATUS"].alert_id.endswith(":cmp-x")

    def test_orphan_checks_read_what_became_judgeable_since_the_last_round(
        self, executor: Executor
    ) -> None:
        """A round after another reads only the citations and complaint updates the event store
        took in since that round, or whose grace ended since (less INGESTION_MARGIN_S each):
        the rest was judged by an earlier round. The first round, or replay, judges them all;
        none is judged within its grace. A complaint's alert counts all its updates."""
        from jianguan.processors.monitor import run_checks

        migrate(executor)
        now = time.time()
        day = 86400
        for tag, occurred, ingested in (
            ("early", now - 3 * day, now - 2 * day),  # judged long ago
            ("late", now - 3 * day, now - 120),  # came in after its grace
            ("maturing", now - day - 30, now - 20 * 3600),  # its grace ended 30 s ago
            ("young", now - 3600, now - 1800),  # within its grace
        ):
            report = generation(f"rep-{tag}", now=occurred)
            report.incident_report.authority = "CAC"
            report.incident_report.related_event_ids.append(f"hit-{tag}")
            update = generation(f"ack-{tag}", now=occurred)
            c = update.complaint
            c.complaint_id, c.status, c.channel, c.category = f"cmp-{tag}", 2, 1, 9
            _taken_in(executor, [report, update], ingested)
        # an earlier update of the late complaint, judged long ago, is still counted
        earlier = generation("ack-late-0", now=now - 4 * day)
        c = earlier.complaint
        c.complaint_id, c.status, c.channel, c.category = "cmp-late", 3, 1, 9
        _taken_in(executor, [earlier], now - 2 * day)

        def orphans(previous: float | None) -> dict[str, list[str]]:
            found: dict[str, list[str]] = {}
            for a in run_checks(executor, now, previous=previous):
                if "ORPHAN" in a.rule_id:
                    found.setdefault(a.rule_id, []).append(a.alert_id.rsplit(":", 1)[1])
            return {rule: sorted(ids) for rule, ids in found.items()}

        assert orphans(None) == {
            "ART14-ORPHAN-REFERENCE": ["hit-early", "hit-late", "hit-maturing"],
            "ART15-ORPHAN-STATUS": ["cmp-early", "cmp-late", "cmp-maturing"],
        }
        assert orphans(now - 60) == {
            "ART14-ORPHAN-REFERENCE": ["hit-late", "hit-maturing"],
            "ART15-ORPHAN-STATUS": ["cmp-late", "cmp-maturing"],
        }
        found = run_checks(executor, now, previous=now - 60)
        late = next(a for a in found if a.alert_id.endswith("cmp-late"))
        assert "has 2 status updates" in late.summary
        assert list(late.evidence) == ["ack-late", "ack-late-0"]

    def test_the_produce_id_ledger_finds_a_reuse_reading_only_what_came_in(
        self, executor: Executor
    ) -> None:
        """A ProduceID written into an image an hour ago and into another now is one alert,
        found in the round the second comes in: the ledger keeps every id it was fed, and a
        round reads again only the seconds whose rows changed. Replay (no feed kept) reads
        everything and finds the same. A reuse stays pending until its alert is published."""
        from jianguan.processors.monitor import INGESTION_MARGIN_S
        from jianguan.processors.produce_id_feed import ProduceIdFeed

        migrate(executor)
        now = time.time()
        rounds = _LedgerRounds(executor)
        feed = ProduceIdFeed({}, INGESTION_MARGIN_S)
        _labeled(executor, "img-early-0", "pid-early-000", now - 7200, now - 3600)
        _labeled(executor, "img-once", "pid-once-000", now - 7200, now - 3600)
        assert rounds.reused(feed, now - 60) == []  # one output each
        assert rounds.read == [("settled past",)]  # a new ledger: fed everything first
        _labeled(executor, "img-early-1", "pid-early-000", now - 1, now - 30)
        assert rounds.reused(feed, now) == ["ProduceID pid-early-000"]
        assert rounds.read[1] == (int(now - 30),)  # the new second alone
        assert feed.pending() == {("acme-ai", "pid-early-000")}
        feed.settle()  # published
        assert feed.pending() == set()
        assert rounds.reused(feed, now + 30) == []  # nothing new came in
        assert len(rounds.read) == 2
        assert rounds.reused(None, now) == ["ProduceID pid-early-000"]  # replay

    def test_the_produce_id_ledger_on_disk_outlives_its_process(
        self, executor: Executor, tmp_path: Path
    ) -> None:
        """Reopened, the ledger still knows the ids it was fed, how far, and the reuses whose
        alerts were not published: a restart reads only the seconds since, less the margin."""
        from jianguan.processors.monitor import INGESTION_MARGIN_S
        from jianguan.processors.produce_id_feed import ProduceIdFeed, open_ledger

        def opened() -> Any:
            return open_ledger(tmp_path / "produce-ids.db")

        migrate(executor)
        now = time.time()
        rounds = _LedgerRounds(executor)
        _labeled(executor, "img-0", "pid-kept-000", now - 7200, now - 3600)
        db = opened()
        assert rounds.reused(ProduceIdFeed(db, INGESTION_MARGIN_S), now - 60) == []
        db.close()
        _labeled(executor, "img-1", "pid-kept-000", now - 1, now - 30)
        db = opened()
        assert rounds.reused(ProduceIdFeed(db, INGESTION_MARGIN_S), now) == [
            "ProduceID pid-kept-000"
        ]
        assert rounds.read[1] == (int(now - 30),)  # not the past again
        db.close()  # before the alert was published
        db = opened()
        assert ProduceIdFeed(db, INGESTION_MARGIN_S).pending() == {("acme-ai", "pid-kept-000")}
        db.close()

    def test_cancellation_check(self, executor: Executor) -> None:
        from jianguan.processors.monitor import run_checks

        migrate(executor)
        day = 86400.0
        now = time.time()
        events = []
        for service, last_age, cancelled_age in (
            ("old", 90, None),
            ("gone", 90, 80),
            ("live", 1, None),
        ):
            filing = generation(f"filed-{service}", now=now - 200 * day, service=service)
            filing.service_filing.kind = pb.bodies_pb2.FILING_KIND_ALGORITHM_FILING
            filing.service_filing.status = pb.bodies_pb2.FILING_STATUS_GRANTED
            served = generation(f"gen-{service}", now=now - last_age * day, service=service)
            events += [filing, served]
            if cancelled_age is not None:
                cancel = generation(
                    f"cancel-{service}", now=now - cancelled_age * day, service=service
                )
                cancel.service_filing.kind = pb.bodies_pb2.FILING_KIND_CANCELLATION
                cancel.service_filing.status = pb.bodies_pb2.FILING_STATUS_GRANTED
                events.append(cancel)
        batch = ColumnBatch()
        batch.add_record(
            pb.EventBatch(events=events).SerializeToString(), RecordMeta("acme-ai", 0, 0, 0), 0
        )
        BatchWriter(executor).write(batch)
        alerts = [
            a.alert_id for a in run_checks(executor, now) if a.rule_id == "ART17-CANCELLATION"
        ]
        # "gone" cancelled within 20 working days, "live" is still serving, "old" never cancelled
        assert alerts == ["ART17-CANCELLATION:acme-ai:old:old"]

    def test_minor_mode_limit_check(self, executor: Executor) -> None:
        from jianguan.processors.monitor import run_checks

        migrate(executor)
        # Noon in Shanghai two days ago, so every minute below falls on one civil day there.
        base = (time.time() // 86400 - 2) * 86400 + 4 * 3600
        reg = generation("reg-kids", now=base - 3600, service="kids")
        f = reg.service_filing
        f.kind = pb.bodies_pb2.FILING_KIND_REGISTRATION
        f.status = pb.bodies_pb2.FILING_STATUS_GRANTED
        f.minor_daily_minutes = 2
        events = [reg]
        for user, minutes in (("u_over", 3), ("u_helped", 3), ("u_ok", 2)):
            for m in range(minutes):
                ev = generation(f"{user}-{m}", now=base + 60 * m, service="kids")
                ev.generation.minor_mode = True
                ev.generation.user_ref = user
                events.append(ev)
        helped = generation("restrict-1", now=base + 600, service="kids")
        helped.user_enforcement.action = pb.bodies_pb2.ENFORCEMENT_ACTION_RESTRICT
        helped.user_enforcement.user_ref = "u_helped"
        events.append(helped)
        batch = ColumnBatch()
        raw = pb.EventBatch(events=events).SerializeToString()
        batch.add_record(raw, RecordMeta("acme-ai", 0, 0, 0), 0)
        BatchWriter(executor).write(batch)
        alerts = [a for a in run_checks(executor, time.time()) if a.rule_id == "ART10-MINORS"]
        assert [list(a.evidence) for a in alerts] == [["u_over"]]
        assert "3 minutes" in alerts[0].summary

    def test_labeling_share_at_the_threshold_is_compliant(self, executor: Executor) -> None:
        from jianguan.processors.monitor import run_checks

        migrate(executor)
        hour_ago = time.time() - 2 * 3600
        events = []
        for service, unlabeled in (("at-limit", 1), ("below", 2)):  # of 4 images each
            for i in range(4):
                ev = labeled_file(f"{service}-{i}", f"pid-{service}-{i:04d}", hour_ago, service)
                if i < unlabeled:
                    ev.generation.ClearField("implicit_label")
                events.append(ev)
        batch = ColumnBatch()
        raw = pb.EventBatch(events=events).SerializeToString()
        batch.add_record(raw, RecordMeta("acme-ai", 0, 0, 0), 0)
        BatchWriter(executor).write(batch)
        overrides = {"ART12-LABELING": {"min_labeled_share": 0.75}}
        alerts = [a for a in run_checks(executor, time.time(), overrides=overrides)
                  if a.rule_id == "ART12-LABELING"]  # fmt: skip
        assert [a.service_id for a in alerts] == ["below"]

    def test_the_rules_configuration_history_is_recorded_once_per_change(
        self, executor: Executor
    ) -> None:
        from datetime import date

        from jianguan.domain.calendar import WorkingCalendar
        from jianguan.domain.configuration import RuleConfiguration
        from jianguan.store.configurations import history, record

        migrate(executor)
        first = RuleConfiguration(1_780_000_000.25, {"ART14-ILLEGAL-CONTENT": {"report_hours": 2}})
        assert record(executor, first) == [first]
        assert len(record(executor, RuleConfiguration(1_780_000_100, first.overrides))) == 1
        second = RuleConfiguration(
            1_780_000_200.5, {}, WorkingCalendar(holidays=frozenset({date(2026, 10, 1)}))
        )
        assert [c.digest for c in record(executor, second)] == [first.digest, second.digest]
        stored = history(executor)
        assert [(c.effective_from, c.digest) for c in stored] == [
            (1_780_000_000.25, first.digest), (1_780_000_200.5, second.digest),
        ]  # fmt: skip
        assert stored[1].calendar.holidays == frozenset({date(2026, 10, 1)})
        assert stored[0].overrides == {"ART14-ILLEGAL-CONTENT": {"report_hours": 2}}


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

    def test_native_blocks_store_what_python_values_store(
        self, clickhouse: ClickHouseServer, executor: Executor
    ) -> None:
        """The same records through the encoder and through clickhouse-driver's own encoding:
        the same rows, every column, every body kind; a block also shares a batch with rows
        the encoder left to Python."""
        from jianguan.store.processor import EVENT_COLUMNS, EVENT_TYPES
        from tests.unit.test_wire import VALID

        migrate(executor)
        other = ServerExecutor(
            clickhouse.url("writer", f"v_{uuid.uuid4().hex[:12]}"), create_database=True
        )
        try:
            migrate(other)
            records = [
                pb.EventBatch(batch_id=f"r{i}", events=VALID[i : i + 200]).SerializeToString()
                for i in range(0, len(VALID), 200)
            ]
            odd = pb.EventBatch(events=[generation("odd-1")]).SerializeToString() + b"\x18\x01"
            encoded, values = ColumnBatch(encoded=True), ColumnBatch()
            for i, raw in enumerate([*records, odd]):
                meta = RecordMeta("acme-ai", 1_790_000_000 + i, i % 6, 100 + i)
                assert encoded.add_record(raw, meta, 1_790_000_500) == values.add_record(
                    raw, meta, 1_790_000_500
                )
            block = encoded.encoded()
            assert block is not None
            assert block.rows == len(VALID)  # the odd record went to Python values
            assert len(encoded.columns()[0]) == 1
            types = tuple(EVENT_TYPES[c] for c in EVENT_COLUMNS)
            assert executor.column_types("events") == dict(zip(EVENT_COLUMNS, types, strict=True))  # type: ignore[attr-defined]
            assert block.types == types
            BatchWriter(executor).write(encoded)
            BatchWriter(other).write(values)
            select = f"SELECT {', '.join(EVENT_COLUMNS)} FROM events ORDER BY event_id, payload"
            mine, theirs = executor.execute(select), other.execute(select)
            assert len(mine) == len(VALID) + 1
            assert mine == theirs
        finally:
            other.close()

    def test_encoded_inserts_go_over_http_and_answer_as_the_native_protocol_does(
        self, clickhouse: ClickHouseServer, executor: Executor
    ) -> None:
        """An encoded block goes to the server's HTTP interface as FORMAT Native: written when
        it returns; refused whole when the table's types differ; a block the server cannot read
        is the data's fault (refuses_data), and the next insert on the same executor works."""
        from clickhouse_driver.errors import ServerException

        from jianguan.store.executor import SchemaMismatch, refuses_data

        assert isinstance(executor, ServerExecutor)
        assert executor.takes_encoded
        executor.execute("CREATE TABLE t (a UInt32, s String) ENGINE = MergeTree ORDER BY a")
        a = (7).to_bytes(4, "little") + (8).to_bytes(4, "little")
        s = b"\x02hi\x03you"
        executor.insert_encoded("t", ("a", "s"), ("UInt32", "String"), 2, [a, s])
        assert sorted(executor.execute("SELECT a, s FROM t")) == [(7, "hi"), (8, "you")]
        with pytest.raises(SchemaMismatch, match=r"\['a'\]"):
            executor.insert_encoded("t", ("a", "s"), ("UInt64", "String"), 1, [bytes(8), b"\x00"])
        # two rows said, one sent
        with pytest.raises(ServerException, match="Cannot read all data") as broken:
            executor.insert_encoded("t", ("a", "s"), ("UInt32", "String"), 2, [a[:4], b"\x01x"])
        assert refuses_data(broken.value), broken.value
        executor.insert_encoded("t", ("a", "s"), ("UInt32", "String"), 1, [a[:4], b"\x01z"])
        assert executor.execute("SELECT count() FROM t") == [(3,)]
        without = ServerExecutor(dataclasses.replace(clickhouse.url("writer"), http_port=None))
        try:
            assert not without.takes_encoded
            with pytest.raises(SchemaMismatch, match="HTTP port"):
                without.insert_encoded("t", ("a",), ("UInt32",), 1, [a[:4]])
        finally:
            without.close()

    def test_the_event_store_sink_refuses_a_table_the_contract_does_not_describe(
        self, clickhouse: ClickHouseServer
    ) -> None:
        """The events table the migrations create is the one derived from the contract; one
        changed by hand stops the sink before it reads anything, naming each column."""
        from jianguan.store.executor import SchemaMismatch
        from jianguan.store.sink import event_store_sink, schema_differences

        url = clickhouse.url("writer", f"m_{uuid.uuid4().hex[:12]}")
        ex = ServerExecutor(url, create_database=True)
        try:
            migrate(ex)
            assert schema_differences(ex.column_types("events")) == []
            event_store_sink("127.0.0.1:9", "unused", "unused", url)  # checked, not connected
            ex.execute("ALTER TABLE events ADD COLUMN note String")
            ex.execute("ALTER TABLE events MODIFY COLUMN latency_ms UInt64")
            with pytest.raises(SchemaMismatch) as refused:
                event_store_sink("127.0.0.1:9", "unused", "unused", url)
        finally:
            ex.close()
        assert str(refused.value).splitlines()[1:] == [
            "  events.latency_ms: UInt64 on the server, UInt32 in the contract",
            "  events.note: String on the server, not in the contract",
        ]

    def test_a_read_only_session_cannot_write_whatever_its_user(
        self, clickhouse: ClickHouseServer, executor: Executor
    ) -> None:
        """The console's sessions: with the writer's credentials they still only read; with the
        read-only user they work as they are (it may not set readonly again)."""
        migrate(executor)
        url = clickhouse.url("writer", executor.database)
        with ServerExecutor(url, read_only=True) as ro:
            assert ro.execute("SELECT count() FROM events") == [(0,)]
            with pytest.raises(Exception, match=r"readonly|READONLY"):
                ro.execute("CREATE TABLE x (a UInt8) ENGINE = Memory")
            with pytest.raises(Exception, match=r"readonly|READONLY"):
                ro.insert_columns("quarantine", ("provider_id",), [["p"]])
        own = ServerExecutor(clickhouse.url("writer", clickhouse.database), create_database=True)
        migrate(own)
        own.close()
        dashboard = clickhouse.url("dashboard", clickhouse.database)
        with ServerExecutor(dashboard, read_only=True) as ro:
            assert ro.execute("SELECT count() FROM events_unique") == [(0,)]

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
