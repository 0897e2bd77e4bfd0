"""Every question the console asks ClickHouse: parameterised SQL in the subset both ClickHouse
18.16 and modern ClickHouse run, always restricted to the providers the viewer may see.

Pure apart from the executor handed in; the console runs these with the read-only user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jianguan.contracts import pb
from jianguan.store.checks import LABEL_OK, LABELED_OUTPUTS
from jianguan.store.executor import Executor

Row = tuple[Any, ...]
# Event kinds as stored (the contract's body field numbers).
_FILING = pb.BODY_KINDS["service_filing"]
_GENERATION = pb.BODY_KINDS["generation"]
PAGE_RULES = {
    "incidents": ("ART14-",),
    "complaints": ("ART15-", "ART18-"),
    "filings": ("ART17-",),
    "labeling": ("ART12-",),
}


@dataclass(frozen=True, slots=True)
class Filters:
    """What the URL's query string narrows a view to."""

    provider: str = ""
    service: str = ""
    article: str = ""
    severity: str = ""
    since: dt.date | None = None
    until: dt.date | None = None

    def where(self, params: dict[str, Any], time_column: str, cases_like: bool = True) -> str:
        """`` AND …`` for every filter set; ``cases_like=False`` for tables without article and
        severity (events, outcomes)."""
        out = []
        if self.provider:
            out.append("provider_id = %(f_provider)s")
            params["f_provider"] = self.provider
        if self.service:
            out.append("service_id = %(f_service)s")
            params["f_service"] = self.service
        if self.article and cases_like:
            out.append("article = %(f_article)s")
            params["f_article"] = self.article
        if self.severity and cases_like:
            out.append("severity = %(f_severity)s")
            params["f_severity"] = self.severity
        if self.since:
            out.append(f"{time_column} >= toDateTime(%(f_since)s)")
            params["f_since"] = _epoch(self.since)
        if self.until:
            out.append(f"{time_column} < toDateTime(%(f_until)s)")
            params["f_until"] = _epoch(self.until) + 86400
        return "".join(f" AND {c}" for c in out)


def _epoch(d: dt.date) -> int:
    # Dates in the URL are Beijing dates: a day starts at 00:00 CST = 16:00 UTC the day before.
    return int(
        dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp()
    )


def scope_sql(
    scope: frozenset[str] | None, params: dict[str, Any], column: str = "provider_id"
) -> str:
    """`` AND provider_id IN (…)`` for a scoped viewer; nothing for one who sees all."""
    if scope is None:
        return ""
    params["scope"] = tuple(sorted(scope)) or ("",)
    return f" AND {column} IN %(scope)s"


def _rules_sql(prefixes: Sequence[str], params: dict[str, Any]) -> str:
    parts = []
    for i, prefix in enumerate(prefixes):
        params[f"rule_{i}"] = prefix + "%"
        parts.append(f"rule_id LIKE %(rule_{i})s")
    return f" AND ({' OR '.join(parts)})" if parts else ""


class Queries:
    def __init__(self, executor: Executor) -> None:
        self._ex = executor

    def _q(self, sql: str, params: dict[str, Any]) -> list[Row]:
        return self._ex.execute(sql, params)

    # -- overview -------------------------------------------------------------------------------

    def totals(self, scope: frozenset[str] | None, f: Filters) -> dict[str, int]:
        p: dict[str, Any] = {}
        cases = self._q(
            "SELECT countIf(closed = 0), countIf(closed = 0 AND deadlines_missed > 0), count()"
            " FROM cases WHERE 1 = 1" + scope_sql(scope, p) + f.where(p, "opened_at"),
            p,
        )[0]
        p = {}
        alerts = self._q(
            "SELECT count() FROM alerts FINAL WHERE retracted = 0" + scope_sql(scope, p)
            + f.where(p, "detected_at"),
            p,
        )[0][0]  # fmt: skip
        p = {}
        events = self._q(
            "SELECT count() FROM events FINAL WHERE 1 = 1" + scope_sql(scope, p)
            + f.where(p, "occurred_at", cases_like=False),
            p,
        )[0][0]  # fmt: skip
        return {
            "open_cases": int(cases[0]),
            "overdue_cases": int(cases[1]),
            "cases": int(cases[2]),
            "alerts": int(alerts),
            "events": int(events),
        }

    def grades(self, scope: frozenset[str] | None) -> list[Row]:
        """(grade, providers) by each provider's latest month."""
        p: dict[str, Any] = {}
        return self._q(
            "SELECT grade, count() FROM (SELECT provider_id, argMax(grade, month) AS grade"
            " FROM report_cards WHERE 1 = 1" + scope_sql(scope, p) + " GROUP BY provider_id)"
            " GROUP BY grade ORDER BY grade",
            p,
        )

    def cases_by_article(self, scope: frozenset[str] | None, f: Filters) -> list[Row]:
        p: dict[str, Any] = {}
        return self._q(
            "SELECT article, countIf(closed = 0), countIf(closed = 0 AND deadlines_missed > 0)"
            " FROM cases WHERE 1 = 1" + scope_sql(scope, p) + f.where(p, "opened_at")
            + " GROUP BY article ORDER BY article",
            p,
        )  # fmt: skip

    def alert_trend(self, scope: frozenset[str] | None, f: Filters, now: int) -> list[Row]:
        """Alerts per hour over the last 48 hours: (hour start, count)."""
        p: dict[str, Any] = {"from": now - 48 * 3600}
        return self._q(
            "SELECT toUInt32(toStartOfHour(detected_at)) AS h, count() FROM alerts FINAL"
            " WHERE retracted = 0 AND detected_at >= toDateTime(%(from)s)" + scope_sql(scope, p)
            + f.where(p, "detected_at") + " GROUP BY h ORDER BY h",
            p,
        )  # fmt: skip

    def ingest_health(self, scope: frozenset[str] | None, now: int) -> dict[str, float]:
        p: dict[str, Any] = {"m1": now - 60, "h1": now - 3600}
        stored = self._q(
            "SELECT count(), quantile(0.95)(toInt64(ingested_at) - toInt64(received_at))"
            " FROM events WHERE ingested_at >= toDateTime(%(m1)s)" + scope_sql(scope, p),
            p,
        )[0]
        p = {"h1": now - 3600}
        received, accepted = self._q(
            "SELECT sum(received), sum(accepted) FROM ingest_outcomes FINAL"
            " WHERE received_at >= toDateTime(%(h1)s)" + scope_sql(scope, p),
            p,
        )[0]
        received, accepted = int(received or 0), int(accepted or 0)
        return {
            "events_per_s": round(int(stored[0]) / 60, 1),
            "store_lag_p95_s": float(stored[1] or 0) if int(stored[0]) else 0.0,
            "received_1h": received,
            "rejection_rate_1h": round((received - accepted) / received, 4) if received else 0.0,
        }

    # -- lists ------------------------------------------------------------------------------------

    def cases(
        self, scope: frozenset[str] | None, f: Filters, rules: Sequence[str] = (), limit: int = 500
    ) -> list[Row]:
        """(provider, case id, rule, article, severity, service, subject, opened, missed,
        closed)."""
        p: dict[str, Any] = {"limit": limit}
        return self._q(
            "SELECT provider_id, case_id, rule_id, article, severity, service_id, subject,"
            " toUInt32(opened_at), deadlines_missed, closed FROM cases WHERE 1 = 1"
            + scope_sql(scope, p) + _rules_sql(rules, p) + f.where(p, "opened_at")
            + " ORDER BY opened_at DESC LIMIT %(limit)s",
            p,
        )  # fmt: skip

    def alerts(
        self,
        scope: frozenset[str] | None,
        f: Filters,
        rules: Sequence[str] = (),
        rule: str = "",
        limit: int = 500,
    ) -> list[Row]:
        """(provider, alert id, rule, article, severity, service, case id, summary, detected)."""
        p: dict[str, Any] = {"limit": limit}
        exact = ""
        if rule:
            exact = " AND rule_id = %(rule)s"
            p["rule"] = rule
        return self._q(
            "SELECT provider_id, alert_id, rule_id, article, severity, service_id, case_id,"
            " summary, toUInt32(detected_at) FROM alerts FINAL WHERE retracted = 0"
            + scope_sql(scope, p) + _rules_sql(rules, p) + exact + f.where(p, "detected_at")
            + " ORDER BY detected_at DESC LIMIT %(limit)s",
            p,
        )  # fmt: skip

    def filings(self, scope: frozenset[str] | None, f: Filters) -> list[Row]:
        """Every filing event: (provider, service, kind, status, number, model, public opinion,
        complaint deadline days, time)."""
        p: dict[str, Any] = {}
        return self._q(
            "SELECT provider_id, service_id, filing_kind, filing_status, filing_number,"
            " model_version, public_opinion_attribute, complaint_deadline_days,"
            f" toUInt32(occurred_at) FROM events FINAL WHERE kind = {_FILING}" + scope_sql(scope, p)
            + f.where(p, "occurred_at", cases_like=False)
            + " ORDER BY provider_id, service_id, occurred_at",
            p,
        )  # fmt: skip

    def authority_complaints(self, scope: frozenset[str] | None, f: Filters) -> list[Row]:
        p: dict[str, Any] = {}
        return self._q(
            "SELECT provider_id, authority_ref, authority_id, service_id, toUInt32(received_at),"
            " toUInt32(forwarded_at), category FROM authority_complaints FINAL WHERE 1 = 1"
            + scope_sql(scope, p)
            + f.where(p, "received_at", cases_like=False) + " ORDER BY received_at DESC LIMIT 500",
            p,
        )  # fmt: skip

    def offshore(self) -> list[Row]:
        return self._q(
            "SELECT target, observations, toUInt32(first_seen), toUInt32(last_seen),"
            " estimated_domestic_users, jurisdiction, toString(disposition)"
            " FROM offshore_cases ORDER BY estimated_domestic_users DESC",
            {},
        )

    def labeling(self, scope: frozenset[str] | None, f: Filters, now: int) -> list[Row]:
        """Per provider and service, the last 24 hours: (provider, service, total, labeled)."""
        p: dict[str, Any] = {"from": now - 86400}
        return self._q(
            "SELECT provider_id, service_id, count(), countIf(" + LABEL_OK + ") FROM events FINAL"
            f" WHERE kind = {_GENERATION} AND {LABELED_OUTPUTS}"
            " AND occurred_at >= toDateTime(%(from)s)"
            + scope_sql(scope, p) + f.where(p, "occurred_at", cases_like=False)
            + " GROUP BY provider_id, service_id ORDER BY provider_id, service_id",
            p,
        )  # fmt: skip

    # -- one provider, one case -------------------------------------------------------------------

    def report_cards(self, provider: str) -> list[Row]:
        return self._q(
            "SELECT toString(month), grade, events_stored, items_submitted, items_rejected,"
            " error_rate, cases_opened, deadlines_missed, violations, grade_a_error_rate,"
            " max_error_rate, grade_b_missed_deadlines FROM report_cards"
            " WHERE provider_id = %(p)s ORDER BY month DESC",
            {"p": provider},
        )

    def ingest_errors(self, provider: str, now: int) -> list[Row]:
        return self._q(
            "SELECT toString(status), field_path, count() FROM ingest_errors"
            " WHERE provider_id = %(p)s AND received_at >= toDateTime(%(from)s)"
            " GROUP BY status, field_path ORDER BY count() DESC LIMIT 50",
            {"p": provider, "from": now - 7 * 86400},
        )

    def reporting_lag(self, provider: str, now: int) -> Row:
        """p50 and p95 seconds from occurrence to receipt, last 24 hours, and events counted."""
        return self._q(
            "SELECT quantile(0.5)(toInt64(received_at) - toInt64(occurred_at)),"
            " quantile(0.95)(toInt64(received_at) - toInt64(occurred_at)), count()"
            " FROM events WHERE provider_id = %(p)s AND received_at >= toDateTime(%(from)s)",
            {"p": provider, "from": now - 86400},
        )[0]

    def case(self, case_id: str) -> list[Row]:
        """Every fact of a case in time order: (kind, rule, article, severity, provider,
        service, subject, obligation, at, due, event id, late, dues, parameter names and
        values)."""
        return self._q(
            "SELECT kind, rule_id, article, severity, provider_id, service_id, subject,"
            " obligation, toUInt32(at), toUInt32(due), event_id, late, dues.obligation,"
            " arrayMap(d -> toUInt32(d), dues.due), parameters.name, parameters.value"
            " FROM case_facts FINAL"
            " WHERE retracted = 0 AND case_id = %(c)s ORDER BY at, kind",
            {"c": case_id},
        )

    def alert(self, alert_id: str) -> list[Row]:
        return self._q(
            "SELECT provider_id, alert_id, rule_id, article, severity, service_id, case_id,"
            " summary, toUInt32(detected_at), evidence, parameters.name, parameters.value"
            " FROM alerts FINAL WHERE retracted = 0 AND alert_id = %(a)s",
            {"a": alert_id},
        )

    def events(self, provider: str, event_ids: Sequence[str]) -> list[Row]:
        """(event id, service, kind, occurred, sequence, received, payload as hex) of cited
        events."""
        if not event_ids:
            return []
        return self._q(
            "SELECT event_id, service_id, kind, toUInt32(occurred_at), sequence,"
            " toUInt32(received_at), hex(payload) FROM events FINAL"
            " WHERE provider_id = %(p)s AND event_id IN %(ids)s ORDER BY occurred_at, sequence",
            {"p": provider, "ids": tuple(event_ids)},
        )

    def providers(self, scope: frozenset[str] | None) -> list[str]:
        p: dict[str, Any] = {}
        rows = self._q(
            "SELECT DISTINCT provider_id FROM events WHERE 1 = 1" + scope_sql(scope, p)
            + " ORDER BY provider_id",
            p,
        )  # fmt: skip
        return [r[0] for r in rows]
