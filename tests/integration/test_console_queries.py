"""Every console query on ClickHouse 18.16 and on chDB (the modern engine), loaded with the
scenario library: the SQL runs on both and agrees with direct counts."""

from __future__ import annotations

import time
from typing import Any

import pytest

from jianguan.console.evidence import build, decode_event
from jianguan.console.pages import PAGE_RULES
from jianguan.domain.rules.demands import visible_to
from jianguan.store.oversight import ALERTS, CASES, FILINGS, Filters, Oversight, Window

pytestmark = pytest.mark.integration
SCOPED = "sc-illegal-output-unreported"
# The authority of the library's inspection: its viewers see every case of the library.
AUTHORITY = "cac-bj"


@pytest.fixture
def ex(scenario_store: tuple[str, Any]) -> Any:
    return scenario_store[1]


def _one(ex: Any, sql: str, params: dict[str, Any] | None = None) -> int:
    return int(ex.execute(sql, params)[0][0])


def test_overview_numbers_agree_with_direct_counts(ex: Any) -> None:
    q, now = Oversight(ex, AUTHORITY), int(time.time())
    t = q.totals(None, Filters())
    assert t.open_cases == _one(ex, "SELECT countIf(closed = 0) FROM cases") > 0
    assert t.alerts == _one(ex, "SELECT count() FROM alerts FINAL") > 0
    assert t.events == _one(ex, "SELECT count() FROM events FINAL") > 0
    scoped = q.totals(frozenset({SCOPED}), Filters())
    assert scoped.events == _one(
        ex, "SELECT count() FROM events FINAL WHERE provider_id = %(p)s", {"p": SCOPED}
    )
    assert scoped.events < t.events
    assert q.totals(frozenset(), Filters()).events == 0  # an empty scope sees nothing
    assert sum(g.providers for g in q.grades(None)) == len(q.providers(None))
    assert sum(c.open_cases for c in q.cases_by_article(None, Filters())) == t.open_cases
    recent = _one(
        ex, "SELECT count() FROM alerts FINAL WHERE detected_at >= toDateTime(%(t)s)",
        {"t": now - 48 * 3600},
    )  # fmt: skip
    assert sum(p.alerts for p in q.alert_trend(None, Filters(), now)) == recent > 0
    health = q.ingest_health(None, now)
    assert health.events_per_s > 0


def test_page_queries_run_and_filter(ex: Any) -> None:
    q, now = Oversight(ex, AUTHORITY), int(time.time())
    for page, rules in PAGE_RULES.items():
        cases = q.cases(None, Filters(), rules)
        alerts = q.alerts(None, Filters(), rules)
        assert all(c.rule_id.startswith(rules) for c in cases), page
        assert all(a.rule_id.startswith(rules) for a in alerts), page
    incidents = q.cases(None, Filters(provider=SCOPED), PAGE_RULES["incidents"])
    assert [c.provider_id for c in incidents] == [SCOPED]
    assert q.alerts(None, Filters(), rule="ART12-LABELING")
    assert q.filings(None, Filters())
    # the library's complaint made to the authority (authority_complaint_unmatched)
    (complaint,) = q.authority_complaints(None, Filters())
    assert (complaint.authority_ref, complaint.authority_id) == ("AUTH-2026-0031", "cac-bj")
    assert complaint.forwarded_at - complaint.received_at == 3600
    # the library's offshore services without a filing in effect (offshore_service and
    # offshore_service_showing_an_invented_number), not the one showing a real filing number
    assert sorted(row.target for row in q.offshore()) == ["bot.example.net", "mirror.example.net"]
    q.labeling(None, Filters(), now)  # the scenarios' images are older than a day: runs, empty
    assert q.report_cards(SCOPED)
    assert q.ingest_errors(SCOPED, now) == []
    lag = q.reporting_lag(SCOPED, now)
    assert lag.events == _one(
        ex,
        "SELECT count() FROM events WHERE provider_id = %(p)s AND received_at >= toDateTime(%(t)s)",
        {"p": SCOPED, "t": now - 86400},
    )
    assert (lag.p50_s is None) == (lag.events == 0)
    # a provider with no events: no quantiles of nothing (NaN), no error
    assert q.reporting_lag("no-such-provider", now) == type(lag)(None, None, 0)


def test_a_case_and_its_evidence(ex: Any) -> None:
    q = Oversight(ex, AUTHORITY)
    (case_id,) = ex.execute("SELECT case_id FROM cases WHERE provider_id = %(p)s", {"p": SCOPED})[0]
    facts = q.case(case_id)
    ids = sorted({f.event_id for f in facts if f.event_id})
    events = q.events(SCOPED, ids)
    assert [e.event_id for e in events] == ["hit-2"]
    assert decode_event(events[0].payload)["envelope"]["event_id"] == "hit-2"
    ev = build(case_id, facts, events)
    assert {d["obligation"]: d["status"] for d in ev.deadlines} == {
        "disposal": "met", "report": "overdue", "rectification": "overdue",
    }  # fmt: skip
    (alert_id,) = ex.execute(
        "SELECT alert_id FROM alerts FINAL WHERE rule_id = 'ART12-LABELING'"
        " AND has(evidence, 'img-3')"
    )[0]
    alert = q.alert(alert_id)
    assert alert is not None
    assert alert.evidence == ("img-3",)
    assert alert.alert.rule_id == "ART12-LABELING"
    assert q.alert("no-such-alert") is None


def test_lists_page_through_every_row_once_with_true_totals(ex: Any) -> None:
    """Pages of any size, in any sort, together hold each row of the filtered list once; the
    total counts the whole list, not the page."""
    q = Oversight(ex, AUTHORITY)
    everything = _one(ex, "SELECT count() FROM cases")
    assert everything > 5
    for sort in ("-opened", "provider", "-severity", "status", "rule"):
        seen: list[str] = []
        for offset in range(0, everything + 4, 4):
            page = q.listing(CASES, None, Filters(), Window(sort, offset, 4))
            assert page.total == everything
            seen += [c.case_id for c in page.rows]
        assert sorted(seen) == sorted(set(seen)), sort
        assert len(seen) == everything, sort
    newest = q.listing(CASES, None, Filters(), Window("-opened", 0, everything)).rows
    assert [c.opened_at for c in newest] == sorted((c.opened_at for c in newest), reverse=True)
    worst = q.listing(CASES, None, Filters(), Window("-severity", 0, 1)).rows[0]
    assert worst.severity == "critical"


def test_lists_search_and_filter_by_status(ex: Any) -> None:
    q = Oversight(ex, AUTHORITY)
    found = q.listing(CASES, None, Filters(search="U_BAD#1"), Window())  # any case
    assert [c.case_id for c in found.rows] == [
        r[0] for r in ex.execute("SELECT case_id FROM cases WHERE case_id LIKE '%u_bad#1%'")
    ]
    assert found.total == 1
    for status, where in (
        ("closed", "closed = 1"),
        ("overdue", "closed = 0 AND deadlines_missed > 0"),
        ("open", "closed = 0 AND deadlines_missed = 0"),
    ):
        listed = q.listing(CASES, None, Filters(status=status), Window(limit=1000))
        assert listed.total == _one(ex, f"SELECT count() FROM cases WHERE {where}"), status
    assert q.listing(CASES, None, Filters(search="no such text anywhere"), Window()).total == 0
    # alerts are searched in their summaries and evidence too
    labeling = q.listing(ALERTS, None, Filters(search="img-3"), Window())
    assert {a.rule_id for a in labeling.rows} == {"ART12-LABELING"}
    # a page of filings, sorted by provider, service and time
    filings = q.listing(FILINGS, None, Filters(), Window("provider", 0, 1000))
    keys = [(f.provider_id, f.service_id, f.occurred_at) for f in filings.rows]
    assert keys == sorted(keys)
    assert filings.total == len(filings.rows) > 0


def test_an_inspection_is_seen_only_by_the_authority_that_made_it(ex: Any) -> None:
    """Art. 19 ¶2: another authority's viewer (or one of none) finds nothing of it: not in a
    list, a count, a search, a case or the demands; orders to correct are every regulator's."""
    inspection = "ART19-INSPECTION:sc-inspection-partly-answered:cac-bj:INS-2026-04"
    own = Oversight(ex, AUTHORITY)
    everything = Filters()
    assert inspection in [c.case_id for c in own.cases(None, everything)]
    assert [a.case_id for a in own.alerts(None, everything) if a.case_id == inspection]
    assert own.case(inspection)
    (asked,) = [d for d in own.demands(None, everything) if d.kind == 2]
    assert (asked.ref, asked.asks) == ("INS-2026-04", ("training_data_source", "annotation_rules"))
    for viewer_authority in ("", "miit"):
        viewer = Oversight(ex, viewer_authority)
        assert inspection not in [c.case_id for c in viewer.cases(None, everything)]
        assert not [a for a in viewer.alerts(None, everything) if a.case_id == inspection]
        assert viewer.cases(None, Filters(search="INS-2026-04")) == []
        assert viewer.case(inspection) == []
        assert not visible_to(viewer_authority, inspection)
        assert [d for d in viewer.demands(None, everything) if d.kind == 2] == []
        theirs, mine = viewer.totals(None, everything), own.totals(None, everything)
        assert (theirs.cases, theirs.alerts) == (mine.cases - 1, mine.alerts - 1)
        by_article = {a.article: a.open_cases for a in viewer.cases_by_article(None, everything)}
        assert "Art. 19 ¶1" not in by_article
        orders = {d.ref: d for d in viewer.demands(None, everything) if d.kind == 1}
        assert sorted(orders) == ["ORD-2026-17", "ORD-2026-18"]
        extended = orders["ORD-2026-18"]  # its standing revision: the deadline extended
        assert (extended.revision, extended.asks) == (1, ("Art. 15",))
        assert extended.due_at - extended.issued_at == 10 * 86400
