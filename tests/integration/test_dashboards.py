"""Every Grafana panel's SQL, with the ClickHouse plugin's macros expanded as Grafana would,
runs against ClickHouse 18.16 and chDB loaded with the scenario library (events, case facts and
alerts derived by the rules engine and the store checks): the expected columns, and rows."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from jianguan.store.checks import LABEL_OK, LABELED_OUTPUTS

pytestmark = pytest.mark.integration
DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
PROVIDER = "sc-illegal-output-unreported"
EXPECTED: dict[tuple[str, str], list[str]] = {
    ("jianguan-overview", "Open cases"): ["open_cases"],
    ("jianguan-overview", "Overdue cases"): ["overdue_cases"],
    ("jianguan-overview", "Alerts in range"): ["alerts"],
    ("jianguan-overview", "Events stored in range"): ["events"],
    ("jianguan-overview", "Cases by article"): ["article", "open", "overdue"],
    ("jianguan-overview", "Alerts"): ["time", "alerts"],
    ("jianguan-overview", "Providers by grade (latest month)"): [
        "provider_id", "grade", "deadlines_missed", "error_rate"],
    ("jianguan-overview", "Recent alerts"): [
        "detected_at", "provider_id", "rule_id", "article", "severity", "summary"],
    ("jianguan-overview", "Incidents (Art. 14): open cases"): [
        "opened_at", "provider_id", "case_id", "rule_id", "subject", "deadlines_missed"],
    ("jianguan-overview", "Complaints (Art. 15/18): open cases"): [
        "opened_at", "provider_id", "case_id", "rule_id", "subject", "deadlines_missed"],
    ("jianguan-overview", "Filings (Art. 17)"): [
        "provider_id", "service_id", "filing_kind", "filing_status", "filing_number",
        "model_version", "occurred_at"],
    ("jianguan-overview", "Offshore services (Art. 20)"): [
        "target", "observations", "estimated_domestic_users", "jurisdiction", "disposition",
        "last_seen"],
    ("jianguan-overview", "Labeling (Art. 12): labeled share by service"): [
        "provider_id", "service_id", "generations", "labeled_share"],
    ("jianguan-provider", "Report card by month"): [
        "month", "grade", "events_stored", "items_submitted", "items_rejected", "error_rate",
        "cases_opened", "deadlines_missed", "late_reports"],
    ("jianguan-provider", "Cases"): [
        "opened_at", "case_id", "rule_id", "article", "severity", "subject", "deadlines_missed",
        "closed"],
    ("jianguan-provider", "Ingest errors by reason"): ["status", "field_path", "items"],
    ("jianguan-provider", "Reporting lag p95 (s)"): ["time", "lag_p95_s"],
    ("jianguan-provider", "Events by kind"): ["kind", "events"],
}  # fmt: skip
# Panels that may rightly be empty for this data, and why.
MAY_BE_EMPTY = {
    # The scenarios are sent straight to the store here, not through an ingest path.
    ("jianguan-provider", "Ingest errors by reason"),
}


def expand(sql: str, provider: list[str] | None, frm: int, to: int, interval_s: int) -> str:
    """The grafana-clickhouse-datasource macros and template variables this project uses.
    ``provider=None`` is the "All" selection."""

    def conditional_all(m: re.Match[str]) -> str:
        return "1 = 1" if provider is None else m.group(1)

    sql = re.sub(r"\$__conditionalAll\((.*?\)), \$provider\)", conditional_all, sql)
    sql = re.sub(
        r"\$__timeFilter\((\w+)\)",
        lambda m: f"{m.group(1)} >= toDateTime({frm}) AND {m.group(1)} <= toDateTime({to})",
        sql,
    )
    sql = sql.replace("$__fromTime", f"toDateTime({frm})").replace("$__toTime", f"toDateTime({to})")
    sql = sql.replace("$__interval_s", str(interval_s))
    chosen = provider or []
    sql = sql.replace("${provider:singlequote}", ", ".join(f"'{p}'" for p in chosen))
    sql = sql.replace("${provider}", chosen[0] if chosen else "")
    # A macro ($__name), a variable ($name, ${name}); a regex's end anchor ($') is neither.
    assert not re.search(r"\$(__|\{|[A-Za-z])", sql), f"an unexpanded macro or variable: {sql}"
    return sql


def panels() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        doc = json.loads(path.read_text())
        assert doc["uid"] == path.stem
        out += [(doc["uid"], p) for p in doc["panels"]]
    return out


Engine = tuple[str, Any]  # (name, executor)


def run(engine: Engine, sql: str) -> tuple[list[str], list[Any]]:
    name, ex = engine
    if name == "chdb":
        doc = json.loads(ex._session.query(sql, "JSONCompact").bytes() or b'{"meta":[],"data":[]}')
        return [c["name"] for c in doc["meta"]], doc["data"]
    rows, columns = ex._client.execute(sql, with_column_types=True)
    return [c for c, _ in columns], rows


def test_every_panel_is_expected() -> None:
    assert {(uid, p["title"]) for uid, p in panels()} == set(EXPECTED)


def test_labeling_counts_as_the_check_does() -> None:
    """Grafana's labeled share uses the Art. 12 check's own definition of a correct label."""
    (sql,) = [p["targets"][0]["rawSql"] for _, p in panels() if p["title"].startswith("Labeling")]
    assert f"countIf({LABEL_OK})" in sql
    assert LABELED_OUTPUTS in sql


@pytest.mark.parametrize(
    ("uid", "panel"), panels(), ids=lambda x: x if isinstance(x, str) else x["title"]
)
def test_panel_sql_runs_with_its_columns_and_rows(
    scenario_store: Engine, uid: str, panel: dict[str, Any]
) -> None:
    (target,) = panel["targets"]
    assert target["datasource"]["type"] == "grafana-clickhouse-datasource"
    now = int(time.time())
    selections: list[list[str] | None] = (
        [[PROVIDER]] if uid == "jianguan-provider" else [None, [PROVIDER]]
    )
    for provider in selections:
        sql = expand(target["rawSql"], provider, now - 40 * 86400, now, 3600)
        columns, rows = run(scenario_store, sql)
        assert columns == EXPECTED[(uid, panel["title"])]
        if (uid, panel["title"]) not in MAY_BE_EMPTY and provider is None:
            assert rows, f"{panel['title']}: no rows"
        if (uid, panel["title"]) in MAY_BE_EMPTY:
            assert rows == []
