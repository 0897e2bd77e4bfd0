"""Every console query on ClickHouse 18.16 and on chDB (the modern engine), loaded with the
scenario library: the SQL runs on both and agrees with direct counts."""

from __future__ import annotations

import time
from typing import Any

import pytest

from jianguan.console.evidence import build, decode_event
from jianguan.console.queries import PAGE_RULES, Filters, Queries

pytestmark = pytest.mark.integration
SCOPED = "sc-illegal-output-unreported"


@pytest.fixture
def ex(scenario_store: tuple[str, Any]) -> Any:
    return scenario_store[1]


def _one(ex: Any, sql: str, params: dict[str, Any] | None = None) -> int:
    return int(ex.execute(sql, params)[0][0])


def test_overview_numbers_agree_with_direct_counts(ex: Any) -> None:
    q, now = Queries(ex), int(time.time())
    t = q.totals(None, Filters())
    assert t["open_cases"] == _one(ex, "SELECT countIf(closed = 0) FROM cases") > 0
    assert t["alerts"] == _one(ex, "SELECT count() FROM alerts FINAL") > 0
    assert t["events"] == _one(ex, "SELECT count() FROM events FINAL") > 0
    scoped = q.totals(frozenset({SCOPED}), Filters())
    assert scoped["events"] == _one(
        ex, "SELECT count() FROM events FINAL WHERE provider_id = %(p)s", {"p": SCOPED}
    )
    assert scoped["events"] < t["events"]
    assert q.totals(frozenset(), Filters())["events"] == 0  # an empty scope sees nothing
    assert sum(int(n) for _, n in q.grades(None)) == len(q.providers(None))
    assert sum(int(o) for _, o, _ in q.cases_by_article(None, Filters())) == t["open_cases"]
    recent = _one(
        ex, "SELECT count() FROM alerts FINAL WHERE detected_at >= toDateTime(%(t)s)",
        {"t": now - 48 * 3600},
    )  # fmt: skip
    assert sum(int(n) for _, n in q.alert_trend(None, Filters(), now)) == recent > 0
    health = q.ingest_health(None, now)
    assert health["events_per_s"] > 0


def test_page_queries_run_and_filter(ex: Any) -> None:
    q, now = Queries(ex), int(time.time())
    for page, rules in PAGE_RULES.items():
        cases = q.cases(None, Filters(), rules)
        alerts = q.alerts(None, Filters(), rules)
        assert all(str(c[2]).startswith(rules) for c in cases), page
        assert all(str(a[2]).startswith(rules) for a in alerts), page
    incidents = q.cases(None, Filters(provider=SCOPED), PAGE_RULES["incidents"])
    assert [c[0] for c in incidents] == [SCOPED]
    assert q.alerts(None, Filters(), rule="ART12-LABELING")
    assert q.filings(None, Filters())
    assert q.authority_complaints(None, Filters()) == []
    # the library's offshore services without a filing in effect (offshore_service and
    # offshore_service_showing_an_invented_number), not the one showing a real filing number
    assert sorted(row[0] for row in q.offshore()) == ["bot.example.net", "mirror.example.net"]
    q.labeling(None, Filters(), now)  # the scenarios' images are older than a day: runs, empty
    assert q.report_cards(SCOPED)
    assert q.ingest_errors(SCOPED, now) == []
    assert len(q.reporting_lag(SCOPED, now)) == 3


def test_a_case_and_its_evidence(ex: Any) -> None:
    q = Queries(ex)
    (case_id,) = ex.execute("SELECT case_id FROM cases WHERE provider_id = %(p)s", {"p": SCOPED})[0]
    facts = q.case(case_id)
    ids = sorted({str(f[10]) for f in facts if f[10]})
    events = q.events(SCOPED, ids)
    assert [e[0] for e in events] == ["hit-2"]
    assert decode_event(events[0][6])["envelope"]["event_id"] == "hit-2"
    ev = build(case_id, facts, events)
    assert {d["obligation"]: d["status"] for d in ev.deadlines} == {
        "disposal": "met", "report": "overdue", "rectification": "overdue",
    }  # fmt: skip
    (alert_id,) = ex.execute(
        "SELECT alert_id FROM alerts FINAL WHERE rule_id = 'ART12-LABELING'"
        " AND has(evidence, 'img-3')"
    )[0]
    (alert,) = q.alert(alert_id)
    assert list(alert[9]) == ["img-3"]
