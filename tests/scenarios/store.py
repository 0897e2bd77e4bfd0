"""The scenario library stored as the platform would store it: events and the authorities'
records, then the case facts and alerts the rules engine and the store checks derive from them,
and a store-check round's report cards (for dashboard and console SQL)."""

from __future__ import annotations

import time

from jianguan.contracts import pb
from jianguan.contracts.facts import alert as alert_of
from jianguan.processors.engine import RulesEngine
from jianguan.processors.monitor import run_checks
from jianguan.store import report_cards
from jianguan.store.cases import (
    AlertBatch,
    AuthorityActionBatch,
    AuthorityComplaintBatch,
    CaseFactBatch,
)
from jianguan.store.executor import Executor
from jianguan.store.migrate import migrate
from jianguan.store.processor import ColumnBatch, RecordMeta
from jianguan.store.writer import BatchWriter
from tests.scenarios.library import load_all


def load_into(ex: Executor, now: float | None = None) -> None:
    """``now``: when they were received (now when not given)."""
    migrate(ex)
    scenarios = load_all()
    now = time.time() if now is None else now
    events = ColumnBatch()
    for s in scenarios:
        raw = pb.EventBatch(events=s.events).SerializeToString()
        events.add_record(raw, RecordMeta(s.provider_id, int(now), 0, 0), int(now))
    actions, complaints = AuthorityActionBatch(), AuthorityComplaintBatch()
    for s in scenarios:
        for authority, record in s.actions:
            meta = RecordMeta(authority, int(now), 0, 0)
            batch = (
                complaints if isinstance(record, pb.authority_pb2.AuthorityComplaint) else actions
            )
            batch.add_record(record.SerializeToString(), meta, int(now))
    writer = BatchWriter(ex)
    writer.write(events)
    writer.write(actions)
    writer.write(complaints)
    engine = RulesEngine({})
    facts = engine.process([o for s in scenarios for o in s.observations()], now)
    facts += engine.tick(now)
    cases, alerts = CaseFactBatch(), AlertBatch()
    cases.add_record(
        pb.cases_pb2.CaseFacts(facts=facts).SerializeToString(), RecordMeta("", 0, 0, 0), 0
    )
    raised = [a for a in map(alert_of, facts) if a is not None] + run_checks(ex, now)
    record = pb.cases_pb2.Alerts(alerts=raised).SerializeToString()
    alerts.add_record(record, RecordMeta("", 0, 0, 0), 0)
    writer.write(cases)
    writer.write(alerts)
    report_cards.snapshot(ex, now)  # the store monitor's round after them
