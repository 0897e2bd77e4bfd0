"""The console's pages (pure given what the store answers): each gathers its named rows and
renders its template (``console/templates``). Numbers carry ids (``n-<key>``) so tests and the
live refresh can find them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jianguan.console import formats, lists
from jianguan.console.context import Ctx
from jianguan.console.evidence import CaseEvidence
from jianguan.console.i18n import N_
from jianguan.console.render import render
from jianguan.domain import law
from jianguan.domain.calendar import CST
from jianguan.domain.rules.catalog import CATALOG
from jianguan.domain.rules.explain import explain
from jianguan.store.oversight import (
    ALERTS,
    CASES,
    LISTS,
    AlertDetail,
    Filters,
    Listing,
    Oversight,
    ProviderSummary,
    Scope,
    TrendPoint,
    Window,
)

# The rules each article page lists, by rule id prefix, and the page's title.
PAGE_RULES = {
    "incidents": ("ART14-",),
    "complaints": ("ART15-", "ART18-"),
    "filings": ("ART17-", "ART4-SAFETY-EVALUATION"),
    "labeling": ("ART12-",),
    "supervision": ("ART19-", "ART21-"),
}
_TITLES = {
    "incidents": N_("Incidents"),
    "complaints": N_("Complaints"),
    "filings": N_("Filings"),
    "labeling": N_("Labeling"),
    "supervision": N_("Inspections and orders to correct"),
}


def overview_data(
    q: Oversight, scope: Scope, f: Filters, now: int, lang: str = "zh"
) -> dict[str, Any]:
    """The overview's numbers, as the page embeds them for its charts and live refresh:
    raw values, and ``shown``: each as the page shows it."""
    totals = dataclasses.asdict(q.totals(scope, f))
    health = dataclasses.asdict(q.ingest_health(scope, now))
    shown = {k: formats.number(v) for k, v in totals.items()}
    shown["events_per_s"] = formats.number(health["events_per_s"], 1)
    shown["rejection_rate_1h"] = formats.percent(health["rejection_rate_1h"])
    shown["store_lag_p95_s"] = formats.duration(health["store_lag_p95_s"], lang)
    return {
        "totals": totals,
        "grades": [[g.grade, g.providers] for g in q.grades(scope)],
        "by_article": [
            [c.article, c.open_cases, c.overdue_cases] for c in q.cases_by_article(scope, f)
        ],
        "trend": _hourly(q.alert_trend(scope, f, now), now),
        "health": health,
        "shown": shown,
        "at": now,
    }


@dataclass(frozen=True, slots=True)
class ListRequest:
    """What a list page's URL asks for: its filters (and what in them could not be used), the
    query string the pages and sorts are read from, and the filters' choices."""

    filters: Filters
    query: Mapping[str, str]
    errors: tuple[str, ...] = ()
    choices: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def _hourly(points: list[TrendPoint], now: int, hours: int = 48) -> list[list[int]]:
    """Every hour of the last ``hours`` (the current one included), with no alerts as 0: a
    chart of a few busy hours then shows them in their place, not as its whole axis."""
    counts = {p.hour: p.alerts for p in points}
    last = now - now % 3600
    return [[h, counts.get(h, 0)] for h in range(last - (hours - 1) * 3600, last + 1, 3600)]


def overview(ctx: Ctx, data: dict[str, Any], lr: ListRequest) -> str:
    return render(
        "overview.html", ctx=ctx, title=N_("Overview"), data=data, **_filter_view(ctx, lr)
    )


def _filter_view(ctx: Ctx, lr: ListRequest) -> dict[str, Any]:
    return {
        "choices": lr.choices,
        "errors": [lists.error_message(x, ctx.lang) for x in lr.errors],
    }


# Each list page's lists, by name, with the prefix of their query parameters (two lists on
# one page page through separately).
PAGE_LISTS: dict[str, tuple[tuple[str, str], ...]] = {
    "cases": (("cases", ""),),
    "alerts": (("alerts", ""),),
    "incidents": (("cases", ""), ("alerts", "a_")),
    "complaints": (("cases", ""), ("alerts", "a_")),
    "labeling": (("cases", ""), ("alerts", "a_")),
    "filings": (("cases", ""), ("alerts", "a_"), ("filings", "f_")),
    "supervision": (("cases", ""), ("alerts", "a_")),
}


def _listing(
    q: Oversight, page: str, name: str, prefix: str, scope: Scope, lr: ListRequest,
    window: Window | None = None,
) -> Listing:  # fmt: skip
    spec = LISTS[name]
    rules = PAGE_RULES.get(page, ()) if spec in (CASES, ALERTS) else ()
    rule = lr.query.get("rule", "") if spec is ALERTS else ""
    return q.listing(
        spec, scope, lr.filters, window or lists.window_of(lr.query, prefix), rules, rule
    )


def list_page(ctx: Ctx, page: str, q: Oversight, scope: Scope, lr: ListRequest, now: int) -> str:
    """A page of lists (cases, alerts, and a page's own), each a page of its true total."""
    shown: dict[str, Any] = {"cases": None, "alerts": None, "filings": None}
    prefixes = {}
    for name, prefix in PAGE_LISTS[page]:
        shown[name] = _listing(q, page, name, prefix, scope, lr)
        prefixes[f"{name}_prefix"] = prefix
    f = lr.filters
    return render(
        "list.html",
        ctx=ctx,
        title=_TITLES.get(page, N_("Cases") if page == "cases" else N_("Alerts")),
        **shown,
        **{"cases_prefix": "", "alerts_prefix": "", **prefixes},
        authority_complaints=q.authority_complaints(scope, f) if page == "complaints" else None,
        labeling=q.labeling(scope, f, now) if page == "labeling" else None,
        demands=q.demands(scope, f) if page == "supervision" else None,
        **_filter_view(ctx, lr),
    )


@dataclass(frozen=True, slots=True)
class Export:
    body: bytes
    content_type: str
    filename: str


def export(
    ctx: Ctx, page: str, q: Oversight, scope: Scope, lr: ListRequest, now: int
) -> Export | None:
    """The whole filtered list the URL names (``list``, in its page's sort) as CSV or JSON
    (``format``); None when the page has no such list or format."""
    name, fmt = lr.query.get("list", ""), lr.query.get("format", "")
    prefix = dict(PAGE_LISTS.get(page, ())).get(name)
    if prefix is None or fmt not in ("csv", "json"):
        return None
    sort = lists.window_of(lr.query, prefix).sort
    listing = _listing(q, page, name, prefix, scope, lr, Window(sort, 0, lists.EXPORT_LIMIT))
    return _exported(
        ctx, f"{page}-{name}", LISTS[name].row, listing.rows, listing.total, lr.filters, fmt, now
    )


def _exported(
    ctx: Ctx, base: str, row: type, rows: list[Any], total: int, filters: Filters, fmt: str,
    now: int,
) -> Export | None:  # fmt: skip
    """``rows`` (of the dataclass ``row``) as a CSV or JSON file named after ``base`` and the
    time; None for another format."""
    stamp = dt.datetime.fromtimestamp(now, CST).strftime("%Y%m%d-%H%M%S")
    filename = f"{base}-{stamp}.{fmt}"
    if fmt == "json":
        return Export(lists.export_json(rows, total, filters), "application/json", filename)
    if fmt == "csv":
        fields = [f.name for f in dataclasses.fields(row)]
        return Export(lists.export_csv(rows, fields, ctx.lang), "text/csv", filename)
    return None


@dataclass(frozen=True, slots=True)
class ProviderRow:
    """A provider of the index: registered (name, sector) or only seen in the store."""

    provider_id: str
    name: str
    sector: str
    grade: str
    open_cases: int
    overdue_cases: int
    last_report_at: int
    ingest_errors_7d: int


_PROVIDER_SORTS = {
    "provider": lambda r: r.provider_id,
    "grade": lambda r: (r.grade or "~", r.provider_id),  # ungraded last
    "open": lambda r: (r.open_cases, r.provider_id),
    "overdue": lambda r: (r.overdue_cases, r.provider_id),
    "last_report": lambda r: (r.last_report_at, r.provider_id),
    "errors": lambda r: (r.ingest_errors_7d, r.provider_id),
}


def provider_rows(
    q: Oversight, scope: Scope, registered: Mapping[str, tuple[str, str]], sort: str, now: int
) -> list[ProviderRow]:
    """The provider index: every provider the viewer may see, registered (``registered``: id →
    (name, sector)) or with anything stored, in ``sort`` order."""
    stored = {s.provider_id: s for s in q.provider_index(scope, now)}
    ids = set(stored) | {p for p in registered if scope is None or p in scope}
    rows = []
    for pid in ids:
        name, sector = registered.get(pid, ("", ""))
        found = stored.get(pid) or ProviderSummary(pid, "", 0, 0, 0, 0)
        rows.append(ProviderRow(pid, name, sector, *dataclasses.astuple(found)[1:]))
    key = _PROVIDER_SORTS.get(sort.lstrip("-"), _PROVIDER_SORTS["provider"])
    return sorted(rows, key=key, reverse=sort.startswith("-"))


def providers_page(ctx: Ctx, rows: list[ProviderRow], sort: str, now: int) -> str:
    return render(
        "providers.html",
        ctx=ctx,
        title=N_("Providers"),
        rows=rows,
        window=Window(sort or "provider", 0, len(rows)),
        now=now,
    )


def export_providers(ctx: Ctx, rows: list[ProviderRow], fmt: str, now: int) -> Export | None:
    return _exported(ctx, "providers", ProviderRow, rows, len(rows), Filters(), fmt, now)


def offshore_page(ctx: Ctx, q: Oversight) -> str:
    return render("offshore.html", ctx=ctx, title=N_("Offshore services"), rows=q.offshore())


def provider_page(ctx: Ctx, q: Oversight, provider: str, now: int) -> str:
    """A provider's report cards, open cases, ingest errors and reporting lag; a provider
    registered but without events yet has empty ones."""
    cases = q.cases(frozenset({provider}), Filters(provider=provider))
    return render(
        "provider.html",
        ctx=ctx,
        title=N_("Provider"),
        provider=provider,
        cards=q.report_cards(provider),
        open_cases=[c for c in cases if not c.closed],
        errors=q.ingest_errors(provider, now),
        lag=q.reporting_lag(provider, now),
    )


def case_page(ctx: Ctx, ev: CaseEvidence) -> str:
    rule = ev.rule_doc()
    cited = [c.article for r in CATALOG if r.id == ev.rule_id for c in r.article.cites]
    rule_view = {
        "id": rule.get("id", ev.rule_id),
        "title": rule.get("title", ""),
        "article": rule.get("article", ev.article),
        "article_zh": rule.get("article_zh", ""),
        "quote_zh": rule.get("quote_zh", ""),
        "gloss_en": rule.get("gloss_en", ""),
        "number": cited[0] if cited else "",
    }
    return render("case.html", ctx=ctx, title=N_("Case"), ev=ev, rule=rule_view)


def alert_page(ctx: Ctx, detail: AlertDetail, events: list[dict[str, Any]]) -> str:
    explained = [x.as_dict() for x in explain(detail.alert.rule_id, list(detail.parameters))]
    return render(
        "alert.html",
        ctx=ctx,
        title=N_("Alert"),
        alert=detail.alert,
        explained=explained,
        events=events,
        evidence=list(detail.evidence),
    )


def access_log_page(ctx: Ctx, entries: list[dict[str, Any]], broken_at: int | None) -> str:
    return render(
        "access_log.html",
        ctx=ctx,
        title=N_("Evidence access log"),
        entries=entries,
        broken_at=broken_at,
    )


def law_page(ctx: Ctx) -> str:
    """The Measures in the official simplified text, an anchor per article (``#art-14``) and,
    beside each, the rules that cite it."""
    citing: dict[int, list[str]] = {}
    for rule in CATALOG:
        for cite in rule.article.cites:
            citing.setdefault(cite.article, []).append(f"{rule.id} ({cite.ref})")
    articles = [
        {
            "number": number,
            "ref": law.Citation(number).ref,
            "ref_zh": law.Citation(number).ref_zh,
            "paragraphs": article.paragraphs,
            "rules": citing.get(number, []),
        }
        for number, article in law.measures().items()
    ]
    return render(
        "law.html",
        ctx=ctx,
        title=N_("The Interim Measures"),
        title_zh=law.TITLE,
        in_force=law.IN_FORCE,
        articles=articles,
    )


# What a refused or failed page says, by HTTP status.
MESSAGES = {
    403: N_("Not permitted"),
    404: N_("Not found"),
    500: N_("Something went wrong on our side; it has been logged."),
}


def message_page(ctx: Ctx, status: int) -> str:
    return render(
        "message.html", ctx=ctx, title=MESSAGES[status], message=MESSAGES[status], status=status
    )


def login_page(lang: str, csrf: str, error: str = "", next_url: str = "/") -> str:
    """``error``: what the last attempt got wrong (an English message of ``LOGIN_ERRORS``)."""
    return render("login.html", lang=lang, csrf=csrf, error=error, next_url=next_url)


LOGIN_ERRORS = {
    "bad_login": N_("Wrong user name or password"),
    "locked": N_("Too many failed logins; try again later"),
}
