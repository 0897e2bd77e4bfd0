"""Rebuild the case projections from the event store, and check them against the live ones.

The log is the truth: replaying the stored events through the same RulesEngine the live workers
run must give exactly the facts live processing gave. Deadlines are ticked at ``now - grace``
(live workers tick every few seconds, so misses due in the last moments may not be out yet) and
facts newer than that are left out of the comparison.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from jianguan.contracts import pb
from jianguan.contracts.facts import CaseFact, alert
from jianguan.contracts.observed import observed
from jianguan.domain.calendar import WorkingCalendar
from jianguan.domain.events import Observed
from jianguan.processors.engine import RELEVANT_CODES, RulesEngine
from jianguan.processors.monitor import run_checks
from jianguan.processors.rebuild import authority_records
from jianguan.store import configurations, projections
from jianguan.store.cases import AlertBatch, CaseFactBatch
from jianguan.store.executor import ClickHouseUrl, ServerExecutor
from jianguan.store.migrate import migrate
from jianguan.store.processor import RecordMeta
from jianguan.store.rule_inputs import events_of_kinds
from jianguan.store.writer import BatchWriter

_REPLAY_BATCH = 10_000


def stored_observations(ex: ServerExecutor) -> list[Observed]:
    """Every rule-relevant fact the store holds, in time order: provider events, and the
    complaints and demands authorities recorded."""
    rows = events_of_kinds(ex, RELEVANT_CODES)
    seen = [observed(pb.Event.FromString(payload), provider) for provider, payload in rows]
    out = [s for s in seen if s is not None] + authority_records(ex)
    out.sort(key=lambda o: (o.at, o.event_id))
    return out


def replay_facts(
    ex: ServerExecutor,
    cutoff: float,
    overrides: dict[str, dict[str, float]] | None = None,
    calendar: WorkingCalendar | None = None,
) -> list[CaseFact]:
    # The configurations the live rules ran with, when recorded; else the one given.
    engine = RulesEngine({}, overrides, calendar, history=configurations.history(ex))
    stored = stored_observations(ex)
    facts: list[CaseFact] = []
    for start in range(0, len(stored), _REPLAY_BATCH):
        facts += engine.process(stored[start : start + _REPLAY_BATCH], cutoff)
    return facts + engine.tick(cutoff)


def write_facts(
    url: ClickHouseUrl,
    facts: list[CaseFact],
    extra_alerts: Sequence[pb.cases_pb2.Alert] = (),
) -> None:
    cases, alerts = CaseFactBatch(), AlertBatch()
    meta = RecordMeta("", 0, 0, 0)
    if facts:
        cases.add_record(pb.cases_pb2.CaseFacts(facts=facts).SerializeToString(), meta, 0)
    raised = [a for a in map(alert, facts) if a is not None] + list(extra_alerts)
    if raised:
        alerts.add_record(pb.cases_pb2.Alerts(alerts=raised).SerializeToString(), meta, 0)
    writer = BatchWriter(ServerExecutor(url))
    try:
        writer.write(cases)
        writer.write(alerts)
    finally:
        writer.close()


def rebuild(
    url: ClickHouseUrl,
    grace_s: float = 0.0,
    overrides: dict[str, dict[str, float]] | None = None,
    calendar: WorkingCalendar | None = None,
) -> int:
    """Replace the case projections with a replay of the event store; returns facts written.
    Run it with the processors stopped, or they will add to the tables meanwhile."""
    ex = ServerExecutor(url)
    try:
        now = time.time() - grace_s
        facts = replay_facts(ex, now, overrides, calendar)
        checked = run_checks(ex, now, overrides=overrides, calendar=calendar)
        projections.clear(ex)
    finally:
        ex.close()
    write_facts(url, facts, checked)
    return len(facts) + len(checked)


@dataclass
class Verdict:
    live_only: list[projections.ComparedFact]
    replay_only: list[projections.ComparedFact]

    @property
    def equal(self) -> bool:
        return not self.live_only and not self.replay_only


def verify(
    url: ClickHouseUrl,
    grace_s: float = 30.0,
    overrides: dict[str, dict[str, float]] | None = None,
    keep: bool = False,
    calendar: WorkingCalendar | None = None,
) -> Verdict:
    """Replay into a scratch database and compare its case facts with the live ones."""
    cutoff = time.time() - grace_s
    live = ServerExecutor(url)
    scratch_url = url.with_database(f"{url.database}_replay_{uuid.uuid4().hex[:8]}")
    scratch = ServerExecutor(scratch_url, create_database=True)
    try:
        migrate(scratch)
        write_facts(scratch_url, replay_facts(live, cutoff, overrides, calendar))
        mine = projections.standing_facts(live, cutoff)
        theirs = projections.standing_facts(scratch, cutoff)
        return Verdict(sorted(mine - theirs), sorted(theirs - mine))
    finally:
        if not keep:
            projections.drop_database(scratch, scratch_url.database)
        scratch.close()
        live.close()
