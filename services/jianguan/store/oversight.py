"""What the regulator console reads: parameterised SQL in the subset both ClickHouse 18.16 and
modern ClickHouse run, always restricted to the providers the viewer may see and, of the cases
confidential to one authority (Art. 19 ¶2), to the viewer's authority's, answered as named
rows. Pure apart from the executor handed in; the console runs these with the read-only user.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from jianguan.contracts import pb
from jianguan.contracts.observed import DEMAND_KINDS, citation
from jianguan.domain import said
from jianguan.domain.calendar import CST
from jianguan.domain.cases import case_id as make_case_id
from jianguan.domain.rules.demands import CONFIDENTIAL_RULES, DEMAND_RULES, demand_subject
from jianguan.domain.said import Phrase
from jianguan.store import report_cards
from jianguan.store.executor import Executor

Scope = frozenset[str] | None


@dataclass(frozen=True, slots=True)
class Filters:
    """What a view is narrowed to."""

    provider: str = ""
    service: str = ""
    article: str = ""
    severity: str = ""
    since: dt.date | None = None  # Beijing dates, both included
    until: dt.date | None = None
    after_s: int | None = None  # a relative range ("the last 7 days"): from this Unix time
    status: str = ""  # a case's: open, overdue, closed (lists of cases only)
    search: str = ""  # text anywhere in a list's searchable columns (ListSpec.search)

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
        if self.after_s is not None:
            out.append(f"{time_column} >= toDateTime(%(f_after)s)")
            params["f_after"] = int(self.after_s)
        return "".join(f" AND {c}" for c in out)


def _epoch(d: dt.date) -> int:
    # A Beijing day starts at 00:00 CST = 16:00 UTC the day before.
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=CST).timestamp())


def scope_sql(scope: Scope, params: dict[str, Any], column: str = "provider_id") -> str:
    """`` AND provider_id IN (…)`` for a scoped viewer; nothing for one who sees all."""
    if scope is None:
        return ""
    params["scope"] = tuple(sorted(scope)) or ("",)
    return f" AND {column} IN %(scope)s"


def confidential_sql(authority: str, params: dict[str, Any]) -> str:
    """`` AND …`` keeping, of the cases and alerts confidential to one authority (inspections,
    Art. 19 ¶2: ``domain.rules.demands``), only those of ``authority``; none when it is empty
    (a viewer of no authority, and every caller that does not name one). For rows with
    ``rule_id`` and ``case_id`` (``<rule>:<provider>:<authority>:<ref>``)."""
    params["c_rules"] = CONFIDENTIAL_RULES
    if not authority:
        return " AND rule_id NOT IN %(c_rules)s"
    params["c_authority"] = authority
    return " AND (rule_id NOT IN %(c_rules)s OR splitByChar(':', case_id)[3] = %(c_authority)s)"


# The kinds of demand by their number (``authority_actions.kind``), and those whose rule is
# confidential (Art. 19 ¶2).
_DEMAND_NAMES = {number: kind for kind, number in DEMAND_KINDS.items()}
_CONFIDENTIAL_KINDS = tuple(
    sorted(
        n for kind, n in DEMAND_KINDS.items() if DEMAND_RULES[kind].rule_id in CONFIDENTIAL_RULES
    )
)


def _rules_sql(prefixes: Sequence[str], params: dict[str, Any]) -> str:
    parts = []
    for i, prefix in enumerate(prefixes):
        params[f"rule_{i}"] = prefix + "%"
        parts.append(f"rule_id LIKE %(rule_{i})s")
    return f" AND ({' OR '.join(parts)})" if parts else ""


R = TypeVar("R")
# A named row's fields are converted from what the driver returns by their annotation; the ones
# holding tuples are built by their query.
_CONVERT: dict[str, Callable[[Any], Any]] = {
    "int": int, "str": str, "float": float, "bool": bool, "bytes": bytes,
    "tuple[Phrase, ...]": said.decode,
}  # fmt: skip


_CONVERTERS: dict[type, tuple[Callable[[Any], Any], ...]] = {}


def _converters(cls: type) -> tuple[Callable[[Any], Any], ...]:
    found = _CONVERTERS.get(cls)
    if found is None:
        fields = dataclasses.fields(cls)
        found = _CONVERTERS[cls] = tuple(_CONVERT.get(str(f.type), _as_is) for f in fields)
    return found


def _as_is(value: Any) -> Any:
    return value


def _one(cls: type[R], row: Sequence[Any]) -> R:
    """``row`` (the query's columns, in the order of ``cls``'s fields) as a ``cls``."""
    return cls(*(c(v) for c, v in zip(_converters(cls), row, strict=True)))


def _named(cls: type[R], rows: Sequence[Sequence[Any]]) -> list[R]:
    return [_one(cls, row) for row in rows]


def _pairs(
    names: Sequence[Any], values: Sequence[Any], value: Callable[[Any], Any]
) -> tuple[tuple[str, Any], ...]:
    """Nested columns as (name, value) pairs."""
    return tuple((str(n), value(v)) for n, v in zip(names, values, strict=True))


def _asks(payload: bytes) -> tuple[str, ...]:
    """What a recorded demand asks (``DemandRow.asks``)."""
    action = pb.authority_pb2.AuthorityAction.FromString(payload)
    if action.HasField("correction_order"):
        return tuple(citation(c).ref for c in action.correction_order.cited)
    topic = pb.bodies_pb2.InspectionTopic.Name
    return tuple(
        topic(t).removeprefix("INSPECTION_TOPIC_").lower() for t in action.inspection_request.topics
    )


# -- named rows ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Totals:
    open_cases: int
    overdue_cases: int
    cases: int
    alerts: int
    events: int


@dataclass(frozen=True, slots=True)
class GradeCount:
    """Providers whose latest month has ``grade``."""

    grade: str
    providers: int


@dataclass(frozen=True, slots=True)
class ArticleCases:
    article: str
    open_cases: int
    overdue_cases: int


@dataclass(frozen=True, slots=True)
class TrendPoint:
    hour: int  # the hour's start, Unix seconds
    alerts: int


@dataclass(frozen=True, slots=True)
class IngestHealth:
    events_per_s: float  # stored in the last minute
    store_lag_p95_s: float  # received → stored, last minute
    received_1h: int
    rejection_rate_1h: float


@dataclass(frozen=True, slots=True)
class CaseRow:
    provider_id: str
    case_id: str
    rule_id: str
    article: str
    severity: str
    service_id: str
    subject: str
    opened_at: int
    deadlines_missed: int
    closed: bool


@dataclass(frozen=True, slots=True)
class AlertRow:
    provider_id: str
    alert_id: str
    rule_id: str
    article: str
    severity: str
    service_id: str
    case_id: str
    summary: str  # in English, as raised
    detected_at: int
    said: tuple[Phrase, ...] = ()  # a store check's finding in phrases (``domain.said``)


@dataclass(frozen=True, slots=True)
class AlertDetail:
    alert: AlertRow
    evidence: tuple[str, ...]  # event ids
    parameters: tuple[tuple[str, str], ...]  # (name, value) the rule decided with


@dataclass(frozen=True, slots=True)
class FilingRow:
    provider_id: str
    service_id: str
    filing_kind: int  # pb FilingKind
    filing_status: int  # pb FilingStatus
    filing_number: str
    model_version: str
    public_opinion: bool
    complaint_deadline_days: int
    occurred_at: int


@dataclass(frozen=True, slots=True)
class AuthorityComplaintRow:
    provider_id: str
    authority_ref: str
    authority_id: str
    service_id: str
    received_at: int
    forwarded_at: int  # 0: not forwarded
    category: int  # pb ComplaintCategory


@dataclass(frozen=True, slots=True)
class DemandRow:
    """An authority's demand as its standing revision has it (``authority_actions``)."""

    provider_id: str
    authority_id: str
    kind: int  # its number in AuthorityAction's oneof (``contracts.observed.DEMAND_KINDS``)
    ref: str
    services: str
    revision: int
    issued_at: int
    due_at: int
    withdrawn: bool
    # What it asks: the provisions an order cites ("Art. 12"), the topics of an inspection
    # ("training_data_source")
    asks: tuple[str, ...]

    @property
    def case_id(self) -> str:
        rule = DEMAND_RULES[_DEMAND_NAMES[self.kind]]
        return make_case_id(
            rule.rule_id, self.provider_id, demand_subject(self.authority_id, self.ref)
        )


@dataclass(frozen=True, slots=True)
class OffshoreRow:
    target: str
    observations: int
    first_seen: int
    last_seen: int
    estimated_domestic_users: int
    jurisdiction: str
    disposition: str


@dataclass(frozen=True, slots=True)
class LabelingRow:
    provider_id: str
    service_id: str
    generations: int
    labeled: int


@dataclass(frozen=True, slots=True)
class ReportCardRow:
    month: str
    grade: str
    events_stored: int
    items_submitted: int
    items_rejected: int
    error_rate: float
    cases_opened: int
    deadlines_missed: int
    violations: int
    grade_a_error_rate: float
    max_error_rate: float
    grade_b_missed_deadlines: int
    late_reports: int  # events received at least late_report_hours after they occurred
    late_report_hours: float


@dataclass(frozen=True, slots=True)
class ProviderSummary:
    """A provider at a glance (the provider index): zeros and "" for what it has not got."""

    provider_id: str
    grade: str  # of its latest report card
    open_cases: int
    overdue_cases: int
    last_report_at: int  # when its last stored event was received
    ingest_errors_7d: int


@dataclass(frozen=True, slots=True)
class IngestErrorCount:
    status: str
    field_path: str
    count: int


@dataclass(frozen=True, slots=True)
class ReportingLag:
    """Occurrence → receipt over the last day; the quantiles are None without events."""

    p50_s: float | None
    p95_s: float | None
    events: int


@dataclass(frozen=True, slots=True)
class CaseFactRow:
    kind: int  # domain CaseFactKind
    rule_id: str
    article: str
    severity: str
    provider_id: str
    service_id: str
    subject: str
    obligation: str
    at: int
    due: int
    event_id: str
    late: bool
    dues: tuple[tuple[str, int], ...]  # (obligation, due) set when the case opened
    parameters: tuple[tuple[str, str], ...]  # (name, value) the deadlines were computed with


@dataclass(frozen=True, slots=True)
class StoredEvent:
    event_id: str
    service_id: str
    kind: int  # pb.BODY_KINDS
    occurred_at: int
    sequence: int
    received_at: int
    corrects_event_id: str  # the earlier event this one replaces ("" for none)
    payload: bytes  # the event as the provider sent it


def _occurrence(e: StoredEvent) -> tuple[int, int, str]:
    return e.occurred_at, e.sequence, e.event_id


# -- lists: totals, pages, sorting, search ------------------------------------------------------

STATUSES = ("open", "overdue", "closed")
# A case's status as SQL (the cases view's columns), and a rank to sort by.
_CASE_STATUS = "if(closed = 1, 'closed', if(deadlines_missed > 0, 'overdue', 'open'))"
_SEVERITY_RANK = "indexOf(['low', 'medium', 'high', 'critical'], severity)"


@dataclass(frozen=True, slots=True)
class ListSpec:
    """One list the console pages through: where its rows come from and how they are named,
    sorted and searched."""

    name: str
    source: str  # FROM … WHERE <base condition>
    columns: str  # the SELECT list, in the row class's field order
    row: type
    time_column: str  # what date filters apply to
    key: str  # a unique order among equals, so pages never overlap or skip
    sorts: dict[str, tuple[str, ...]]  # sort name → SQL expressions
    default_sort: str  # a sort name; "-name" for descending
    search: str  # the SQL text a search looks in
    cases_like: bool = True  # has rule_id, article and severity
    status: str = ""  # SQL of a row's status, when it has one


CASES = ListSpec(
    name="cases",
    source="cases WHERE 1 = 1",
    columns="provider_id, case_id, rule_id, article, severity, service_id, subject,"
    " toUInt32(opened_at), deadlines_missed, closed",
    row=CaseRow,
    time_column="opened_at",
    key="case_id",
    sorts={
        "opened": ("opened_at",),
        "provider": ("provider_id",),
        "rule": ("rule_id",),
        "article": ("article",),
        "severity": (_SEVERITY_RANK,),
        "service": ("service_id",),
        "status": (f"indexOf(['closed', 'open', 'overdue'], {_CASE_STATUS})",),
        "case": ("case_id",),
    },
    default_sort="-opened",
    search="concat(case_id, ' ', subject, ' ', rule_id, ' ', service_id, ' ', provider_id,"
    " ' ', trigger_event_id)",
    status=_CASE_STATUS,
)
ALERTS = ListSpec(
    name="alerts",
    source="alerts FINAL WHERE retracted = 0",
    columns="provider_id, alert_id, rule_id, article, severity, service_id, case_id, summary,"
    " toUInt32(detected_at), said",
    row=AlertRow,
    time_column="detected_at",
    key="alert_id",
    sorts={
        "detected": ("detected_at",),
        "provider": ("provider_id",),
        "rule": ("rule_id",),
        "article": ("article",),
        "severity": (_SEVERITY_RANK,),
        "alert": ("alert_id",),
    },
    default_sort="-detected",
    search="concat(alert_id, ' ', summary, ' ', rule_id, ' ', service_id, ' ', provider_id,"
    " ' ', arrayStringConcat(evidence, ' '))",
)
FILINGS = ListSpec(
    name="filings",
    source="filings FINAL WHERE 1 = 1",
    columns="provider_id, service_id, filing_kind, filing_status, filing_number, model_version,"
    " public_opinion_attribute, complaint_deadline_days, toUInt32(occurred_at)",
    row=FilingRow,
    time_column="occurred_at",
    key="event_id",
    sorts={
        "time": ("occurred_at",),
        "provider": ("provider_id", "service_id", "occurred_at"),
        "service": ("service_id", "occurred_at"),
        "number": ("filing_number",),
    },
    default_sort="provider",
    search="concat(filing_number, ' ', model_version, ' ', service_id, ' ', provider_id,"
    " ' ', event_id)",
    cases_like=False,
)
LISTS = {spec.name: spec for spec in (CASES, ALERTS, FILINGS)}


@dataclass(frozen=True, slots=True)
class Window:
    """Which rows of a list: ``limit`` from ``offset``, in ``sort`` order (a sort name of the
    list, ``-`` in front for descending)."""

    sort: str = ""
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True, slots=True)
class Listing:
    """A page of a list, and how many rows the whole filtered list has."""

    rows: list[Any]
    total: int
    window: Window


def _search_sql(spec: ListSpec, f: Filters, params: dict[str, Any]) -> str:
    if not f.search.strip():
        return ""
    params["f_search"] = f.search.strip()
    return f" AND positionCaseInsensitiveUTF8({spec.search}, %(f_search)s) > 0"


def _status_sql(spec: ListSpec, f: Filters, params: dict[str, Any]) -> str:
    if not f.status or not spec.status:
        return ""
    params["f_status"] = f.status
    return f" AND {spec.status} = %(f_status)s"


def _order_sql(spec: ListSpec, sort: str) -> str:
    """ORDER BY of a sort name (an unknown one: the list's default), ties broken by the key."""
    name = sort or spec.default_sort
    if name.lstrip("-") not in spec.sorts:
        name = spec.default_sort
    descending = name.startswith("-")
    direction = " DESC" if descending else ""
    exprs = [*spec.sorts[name.lstrip("-")], spec.key]
    return " ORDER BY " + ", ".join(f"{x}{direction}" for x in exprs)


def _list_where(
    spec: ListSpec,
    scope: Scope,
    f: Filters,
    params: dict[str, Any],
    rules: Sequence[str],
    rule: str,
    authority: str,
) -> str:
    where = scope_sql(scope, params) + f.where(params, spec.time_column, spec.cases_like)
    if spec.cases_like:
        where += confidential_sql(authority, params) + _rules_sql(rules, params)
        if rule:
            where += " AND rule_id = %(rule)s"
            params["rule"] = rule
    return where + _search_sql(spec, f, params) + _status_sql(spec, f, params)


class Oversight:
    """The console's questions, over one executor, for a viewer of ``authority`` (its own
    confidential cases and alerts are shown, no other authority's; "": none are)."""

    def __init__(self, executor: Executor, authority: str = "") -> None:
        self._ex = executor
        self._authority = authority

    def _confidential(self, params: dict[str, Any]) -> str:
        return confidential_sql(self._authority, params)

    def _q(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        return self._ex.execute(sql, params)

    # -- overview ---------------------------------------------------------------------------------

    def totals(self, scope: Scope, f: Filters) -> Totals:
        p: dict[str, Any] = {}
        open_, overdue, cases = self._q(
            "SELECT countIf(closed = 0), countIf(closed = 0 AND deadlines_missed > 0), count()"
            " FROM cases WHERE 1 = 1" + scope_sql(scope, p) + self._confidential(p)
            + f.where(p, "opened_at"),
            p,
        )[0]  # fmt: skip
        p = {}
        alerts = self._q(
            "SELECT count() FROM alerts FINAL WHERE retracted = 0" + scope_sql(scope, p)
            + self._confidential(p) + f.where(p, "detected_at"),
            p,
        )[0][0]  # fmt: skip
        p = {}
        # by the hour events occurred in (event_counts): date filters fall on whole hours
        events = self._q(
            "SELECT countMerge(events) FROM event_counts WHERE 1 = 1" + scope_sql(scope, p)
            + f.where(p, "hour", cases_like=False),
            p,
        )[0][0]  # fmt: skip
        return Totals(int(open_), int(overdue), int(cases), int(alerts), int(events))

    def grades(self, scope: Scope) -> list[GradeCount]:
        """Providers per grade, by each provider's latest month (as of the last store-check
        round, like every grade the console shows: ``store.report_cards``)."""
        p: dict[str, Any] = {}
        rows = self._q(
            "SELECT grade, count() FROM (SELECT provider_id, argMax(grade, month) AS grade"
            f" FROM {report_cards.LATEST} WHERE 1 = 1"
            + scope_sql(scope, p)
            + " GROUP BY provider_id)"
            " GROUP BY grade ORDER BY grade",
            p,
        )
        return _named(GradeCount, rows)

    def cases_by_article(self, scope: Scope, f: Filters) -> list[ArticleCases]:
        p: dict[str, Any] = {}
        rows = self._q(
            "SELECT article, countIf(closed = 0), countIf(closed = 0 AND deadlines_missed > 0)"
            " FROM cases WHERE 1 = 1" + scope_sql(scope, p) + self._confidential(p)
            + f.where(p, "opened_at") + " GROUP BY article ORDER BY article",
            p,
        )  # fmt: skip
        return _named(ArticleCases, rows)

    def alert_trend(self, scope: Scope, f: Filters, now: int) -> list[TrendPoint]:
        """Alerts per hour over the last 48 hours (hours without alerts left out)."""
        p: dict[str, Any] = {"from": now - 48 * 3600}
        rows = self._q(
            "SELECT toUInt32(toStartOfHour(detected_at)) AS h, count() FROM alerts FINAL"
            " WHERE retracted = 0 AND detected_at >= toDateTime(%(from)s)" + scope_sql(scope, p)
            + self._confidential(p) + f.where(p, "detected_at") + " GROUP BY h ORDER BY h",
            p,
        )  # fmt: skip
        return _named(TrendPoint, rows)

    def ingest_health(self, scope: Scope, now: int) -> IngestHealth:
        p: dict[str, Any] = {"m1": now - 60}
        stored, lag = self._q(
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
        stored, received, accepted = int(stored), int(received or 0), int(accepted or 0)
        return IngestHealth(
            events_per_s=round(stored / 60, 1),
            store_lag_p95_s=float(lag or 0) if stored else 0.0,
            received_1h=received,
            rejection_rate_1h=round((received - accepted) / received, 4) if received else 0.0,
        )

    # -- lists ------------------------------------------------------------------------------------

    def listing(
        self,
        spec: ListSpec,
        scope: Scope,
        f: Filters,
        window: Window = Window(),
        rules: Sequence[str] = (),
        rule: str = "",
    ) -> Listing:
        """One page of ``spec``'s rows the viewer may see, narrowed by ``f`` (and, for lists
        of cases and alerts, by rule id ``rules`` prefixes or one exact ``rule``), with the
        filtered list's true total."""
        p: dict[str, Any] = {}
        where = _list_where(spec, scope, f, p, rules, rule, self._authority)
        total = int(self._q(f"SELECT count() FROM {spec.source}{where}", p)[0][0])
        p["offset"], p["limit"] = max(0, window.offset), max(0, window.limit)
        rows = self._q(
            f"SELECT {spec.columns} FROM {spec.source}{where}{_order_sql(spec, window.sort)}"
            " LIMIT %(offset)s, %(limit)s",
            p,
        )
        return Listing(_named(spec.row, rows), total, window)

    def cases(
        self, scope: Scope, f: Filters, rules: Sequence[str] = (), limit: int = 500
    ) -> list[CaseRow]:
        """The newest ``limit`` cases; ``rules``: rule id prefixes."""
        return self.listing(CASES, scope, f, Window(limit=limit), rules).rows

    def alerts(
        self,
        scope: Scope,
        f: Filters,
        rules: Sequence[str] = (),
        rule: str = "",
        limit: int = 500,
    ) -> list[AlertRow]:
        """The newest ``limit`` standing alerts; ``rules``: rule id prefixes, ``rule``: one."""
        return self.listing(ALERTS, scope, f, Window(limit=limit), rules, rule).rows

    def filings(self, scope: Scope, f: Filters, limit: int = 500) -> list[FilingRow]:
        """Filing events, by provider, service and time."""
        return self.listing(FILINGS, scope, f, Window("provider", 0, limit)).rows

    def authority_complaints(self, scope: Scope, f: Filters) -> list[AuthorityComplaintRow]:
        p: dict[str, Any] = {}
        rows = self._q(
            "SELECT provider_id, authority_ref, authority_id, service_id, toUInt32(received_at),"
            " toUInt32(forwarded_at), category FROM authority_complaints FINAL WHERE 1 = 1"
            + scope_sql(scope, p)
            + f.where(p, "received_at", cases_like=False) + " ORDER BY received_at DESC LIMIT 500",
            p,
        )  # fmt: skip
        return _named(AuthorityComplaintRow, rows)

    def demands(self, scope: Scope, f: Filters, limit: int = 500) -> list[DemandRow]:
        """The authorities' demands of the providers in scope, newest first: orders to correct,
        and only this viewer's authority's inspection requests (Art. 19 ¶2)."""
        p: dict[str, Any] = {"c_kinds": _CONFIDENTIAL_KINDS, "limit": limit}
        own = " AND kind NOT IN %(c_kinds)s"
        if self._authority:
            p["c_authority"] = self._authority
            own = " AND (kind NOT IN %(c_kinds)s OR authority_id = %(c_authority)s)"
        rows = self._q(
            "SELECT provider_id, authority_id, kind, ref,"
            " argMax(arrayStringConcat(service_ids, ', '), revision), max(revision),"
            " min(toUInt32(issued_at)) AS issued, argMax(toUInt32(due_at), revision),"
            " argMax(withdrawn, revision), hex(argMax(payload, revision))"
            " FROM authority_actions FINAL WHERE 1 = 1" + scope_sql(scope, p) + own
            + f.where(p, "issued_at", cases_like=False)
            + " GROUP BY provider_id, authority_id, kind, ref"
            " ORDER BY issued DESC, provider_id, authority_id, ref LIMIT %(limit)s",
            p,
        )  # fmt: skip
        return [_one(DemandRow, (*flat, _asks(bytes.fromhex(payload)))) for *flat, payload in rows]

    def offshore(self) -> list[OffshoreRow]:
        rows = self._q(
            "SELECT target, observations, toUInt32(first_seen), toUInt32(last_seen),"
            " estimated_domestic_users, jurisdiction, toString(disposition)"
            " FROM offshore_cases ORDER BY estimated_domestic_users DESC",
            {},
        )
        return _named(OffshoreRow, rows)

    def labeling(self, scope: Scope, f: Filters, now: int) -> list[LabelingRow]:
        """Per provider and service, the outputs that need a label in the last 24 whole hours,
        and how many carry them, as the Art. 12 check counts them (labeling_hours)."""
        p: dict[str, Any] = {"from": (now - 86400) // 3600 * 3600 + 3600}
        rows = self._q(
            "SELECT provider_id, service_id, countMerge(total), sumMerge(labeled)"
            " FROM labeling_hours WHERE hour >= toDateTime(%(from)s)"
            + scope_sql(scope, p) + f.where(p, "hour", cases_like=False)
            + " GROUP BY provider_id, service_id ORDER BY provider_id, service_id",
            p,
        )  # fmt: skip
        return _named(LabelingRow, rows)

    # -- one provider, one case -------------------------------------------------------------------

    def report_cards(self, provider: str) -> list[ReportCardRow]:
        """The provider's report cards, newest month first."""
        rows = self._q(
            "SELECT toString(month), grade, events_stored, items_submitted, items_rejected,"
            " error_rate, cases_opened, deadlines_missed, violations, grade_a_error_rate,"
            " max_error_rate, grade_b_missed_deadlines, late_reports, late_report_hours"
            f" FROM {report_cards.LATEST}"
            " WHERE provider_id = %(p)s ORDER BY month DESC",
            {"p": provider},
        )
        return _named(ReportCardRow, rows)

    def ingest_errors(self, provider: str, now: int) -> list[IngestErrorCount]:
        """The provider's refused items of the last 7 days, by status and field, most first."""
        rows = self._q(
            "SELECT toString(status), field_path, count() FROM ingest_errors"
            " WHERE provider_id = %(p)s AND received_at >= toDateTime(%(from)s)"
            " GROUP BY status, field_path ORDER BY count() DESC LIMIT 50",
            {"p": provider, "from": now - 7 * 86400},
        )
        return _named(IngestErrorCount, rows)

    def reporting_lag(self, provider: str, now: int) -> ReportingLag:
        """Seconds from occurrence to receipt of the provider's events of the last 24 hours."""
        p50, p95, n = self._q(
            "SELECT quantile(0.5)(toInt64(received_at) - toInt64(occurred_at)),"
            " quantile(0.95)(toInt64(received_at) - toInt64(occurred_at)), count()"
            " FROM events WHERE provider_id = %(p)s AND received_at >= toDateTime(%(from)s)",
            {"p": provider, "from": now - 86400},
        )[0]
        if not int(n):  # the quantiles of nothing are NaN
            return ReportingLag(None, None, 0)
        return ReportingLag(float(p50), float(p95), int(n))

    def case(self, case_id: str) -> list[CaseFactRow]:
        """Every standing step of a case (its facts but STATUS, which sums them up), in time
        order."""
        # Its provider first (one column read, no merge), so the facts are read through the
        # table's key (provider_id, case_id, …) rather than merged for every case.
        owner = self._q(
            "SELECT DISTINCT provider_id FROM case_facts WHERE case_id = %(c)s", {"c": case_id}
        )
        if not owner:
            return []
        p = {
            "c": case_id,
            "p": tuple(str(r[0]) for r in owner),
            "status": pb.cases_pb2.CASE_FACT_KIND_STATUS,
        }
        rows = self._q(
            "SELECT kind, rule_id, article, severity, provider_id, service_id, subject,"
            " obligation, toUInt32(at), toUInt32(due), event_id, late, dues.obligation,"
            " arrayMap(d -> toUInt32(d), dues.due), parameters.name, parameters.value"
            " FROM case_facts FINAL WHERE retracted = 0 AND provider_id IN %(p)s"
            " AND case_id = %(c)s AND kind != %(status)s" + self._confidential(p)
            + " ORDER BY at, kind",
            p,
        )  # fmt: skip
        return [
            _one(
                CaseFactRow, (*flat, _pairs(due_names, due_times, int), _pairs(names, values, str))
            )
            for *flat, due_names, due_times, names, values in rows
        ]

    def alert(self, alert_id: str) -> AlertDetail | None:
        p: dict[str, Any] = {"a": alert_id}
        rows = self._q(
            "SELECT " + _ALERT_COLUMNS + ", evidence, parameters.name, parameters.value"
            " FROM alerts FINAL WHERE retracted = 0 AND alert_id = %(a)s" + self._confidential(p),
            p,
        )
        if not rows:
            return None
        *head, evidence, names, values = rows[0]
        return AlertDetail(
            _one(AlertRow, head),
            tuple(str(x) for x in evidence),
            _pairs(names, values, str),
        )

    def events(self, provider: str, event_ids: Sequence[str]) -> list[StoredEvent]:
        """The cited events of one provider, and the earlier events any of them corrects (both
        stay in the log), in the order they occurred."""
        if not event_ids:
            return []
        rows = self._q(
            "SELECT event_id, service_id, kind, toUInt32(occurred_at), sequence,"
            " toUInt32(received_at), corrects_event_id, hex(payload) FROM events FINAL"
            " WHERE provider_id = %(p)s AND event_id IN %(ids)s ORDER BY occurred_at, sequence",
            {"p": provider, "ids": tuple(event_ids)},
        )
        cited = [_one(StoredEvent, (*flat, bytes.fromhex(payload))) for *flat, payload in rows]
        known = {e.event_id for e in cited}
        originals = sorted({e.corrects_event_id for e in cited} - known - {""})
        if not originals:
            return cited
        return sorted(cited + self.events(provider, originals), key=_occurrence)

    def provider_index(self, scope: Scope, now: int) -> list[ProviderSummary]:
        """Every provider the viewer may see that has reported anything, by id."""
        found: dict[str, dict[str, Any]] = {}

        def merge(
            sql: str,
            names: tuple[str, ...],
            extra: dict[str, Any] | None = None,
            cases: bool = False,
        ) -> None:
            """``cases``: the rows are cases (of which the viewer sees only some)."""
            p: dict[str, Any] = dict(extra or {})
            where = scope_sql(scope, p) + (self._confidential(p) if cases else "")
            for provider, *values in self._q(sql.format(scope=where), p):
                found.setdefault(str(provider), {}).update(zip(names, values, strict=True))

        merge(
            f"SELECT provider_id, argMax(grade, month) FROM {report_cards.LATEST}"
            " WHERE 1 = 1{scope} GROUP BY provider_id",
            ("grade",),
        )
        merge(
            "SELECT provider_id, countIf(closed = 0), countIf(closed = 0 AND deadlines_missed > 0)"
            " FROM cases WHERE 1 = 1{scope} GROUP BY provider_id",
            ("open_cases", "overdue_cases"),
            cases=True,
        )
        merge(
            "SELECT provider_id, toUInt32(maxMerge(last_received)) FROM event_counts"
            " WHERE 1 = 1{scope} GROUP BY provider_id",
            ("last_report_at",),
        )
        merge(
            "SELECT provider_id, count() FROM ingest_errors"
            " WHERE received_at >= toDateTime(%(from)s){scope} GROUP BY provider_id",
            ("ingest_errors_7d",),
            {"from": now - 7 * 86400},
        )
        return [
            ProviderSummary(
                provider_id=provider,
                grade=str(v.get("grade") or ""),
                open_cases=int(v.get("open_cases", 0)),
                overdue_cases=int(v.get("overdue_cases", 0)),
                last_report_at=int(v.get("last_report_at", 0)),
                ingest_errors_7d=int(v.get("ingest_errors_7d", 0)),
            )
            for provider, v in sorted(found.items())
        ]

    def services(self, scope: Scope) -> list[str]:
        """The services with stored events of the providers the viewer may see."""
        p: dict[str, Any] = {}
        rows = self._q(
            "SELECT DISTINCT service_id FROM event_counts WHERE 1 = 1" + scope_sql(scope, p)
            + " ORDER BY service_id",
            p,
        )  # fmt: skip
        return [str(r[0]) for r in rows]

    def providers(self, scope: Scope) -> list[str]:
        """The providers with stored events that the viewer may see."""
        p: dict[str, Any] = {}
        rows = self._q(
            "SELECT DISTINCT provider_id FROM event_counts WHERE 1 = 1" + scope_sql(scope, p)
            + " ORDER BY provider_id",
            p,
        )  # fmt: skip
        return [str(r[0]) for r in rows]


_ALERT_COLUMNS = (
    "provider_id, alert_id, rule_id, article, severity, service_id, case_id, summary,"
    " toUInt32(detected_at), said"
)
