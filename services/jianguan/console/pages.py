"""The console's pages (pure given what the store answers): each gathers its named rows and
renders its template (``console/templates``). Numbers carry ids (``n-<key>``) so tests and the
live refresh can find them."""

from __future__ import annotations

import dataclasses
from typing import Any

from jianguan.console import formats
from jianguan.console.context import Ctx
from jianguan.console.evidence import CaseEvidence
from jianguan.console.i18n import N_
from jianguan.console.render import render
from jianguan.domain import law
from jianguan.domain.rules.catalog import CATALOG
from jianguan.domain.rules.explain import explain
from jianguan.store.oversight import AlertDetail, Filters, Oversight, Scope

# The rules each article page lists, by rule id prefix, and the page's title.
PAGE_RULES = {
    "incidents": ("ART14-",),
    "complaints": ("ART15-", "ART18-"),
    "filings": ("ART17-",),
    "labeling": ("ART12-",),
}
_TITLES = {
    "incidents": N_("Incidents"),
    "complaints": N_("Complaints"),
    "filings": N_("Filings"),
    "labeling": N_("Labeling"),
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
        "trend": [[t.hour, t.alerts] for t in q.alert_trend(scope, f, now)],
        "health": health,
        "shown": shown,
        "at": now,
    }


def overview(ctx: Ctx, data: dict[str, Any]) -> str:
    return render("overview.html", ctx=ctx, title=N_("Overview"), data=data)


def rule_page(ctx: Ctx, page: str, q: Oversight, scope: Scope, f: Filters, now: int) -> str:
    """Incidents, complaints, filings, labeling: the page's cases and alerts, and its own view."""
    rules = PAGE_RULES[page]
    return render(
        "list.html",
        ctx=ctx,
        title=_TITLES[page],
        cases=q.cases(scope, f, rules),
        alerts=q.alerts(scope, f, rules),
        filings=q.filings(scope, f) if page == "filings" else None,
        authority_complaints=q.authority_complaints(scope, f) if page == "complaints" else None,
        labeling=q.labeling(scope, f, now) if page == "labeling" else None,
    )


def cases_page(ctx: Ctx, q: Oversight, scope: Scope, f: Filters) -> str:
    return render(
        "list.html", ctx=ctx, title=N_("Cases"), cases=q.cases(scope, f), alerts=None,
        filings=None, authority_complaints=None, labeling=None,
    )  # fmt: skip


def alerts_page(ctx: Ctx, q: Oversight, scope: Scope, f: Filters, rule: str) -> str:
    return render(
        "list.html", ctx=ctx, title=N_("Alerts"), cases=None, alerts=q.alerts(scope, f, rule=rule),
        filings=None, authority_complaints=None, labeling=None,
    )  # fmt: skip


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
