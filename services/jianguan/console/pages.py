"""The console's pages (pure given query results): each takes the viewer's context and what the
queries returned, and returns HTML. Numbers carry ids (``n-<key>``) so tests and the live refresh
can find them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from jianguan.console.evidence import CaseEvidence
from jianguan.console.html import Ctx, a, cst, e, filters_form, layout, seg, table
from jianguan.domain import law
from jianguan.domain.rules.catalog import CATALOG
from jianguan.domain.rules.explain import explain
from jianguan.store.oversight import AlertDetail, AlertRow, CaseRow, Filters, Oversight, Scope

# The rules each article page lists, by rule id prefix.
PAGE_RULES = {
    "incidents": ("ART14-",),
    "complaints": ("ART15-", "ART18-"),
    "filings": ("ART17-",),
    "labeling": ("ART12-",),
}
FILING_KINDS = {
    1: "registration",
    2: "security assessment",
    3: "algorithm filing",
    4: "change",
    5: "cancellation",
}
FILING_STATUS = {1: "submitted", 2: "granted", 3: "rejected", 4: "revoked"}
COMPLAINT_CATEGORIES = {
    1: "illegal content",
    2: "discrimination",
    3: "personal information",
    4: "minor protection",
    5: "inaccurate content",
    6: "labeling",
    7: "intellectual property",
    8: "service quality",
    9: "other",
}


def overview_data(q: Oversight, scope: Scope, f: Filters, now: int) -> dict[str, Any]:
    """The overview's numbers, as the page embeds them for its charts and live refresh."""
    return {
        "totals": dataclasses.asdict(q.totals(scope, f)),
        "grades": [[g.grade, g.providers] for g in q.grades(scope)],
        "by_article": [
            [c.article, c.open_cases, c.overdue_cases] for c in q.cases_by_article(scope, f)
        ],
        "trend": [[t.hour, t.alerts] for t in q.alert_trend(scope, f, now)],
        "health": dataclasses.asdict(q.ingest_health(scope, now)),
        "at": now,
    }


def _num(key: str, value: Any) -> str:
    return f'<span class="num" id="n-{e(key)}" data-key="{e(key)}">{e(value)}</span>'


def overview(ctx: Ctx, data: dict[str, Any]) -> str:
    t = data["totals"]
    h = data["health"]
    cards = "".join(
        f'<div class="card"><div class="label">{e(ctx.t(k))}</div>{_num(k, t[k])}</div>'
        for k in ("open_cases", "overdue_cases", "alerts", "events")
    )
    health = "".join(
        f'<div class="card"><div class="label">{e(ctx.t(label))}</div>{_num(key, h[key])}</div>'
        for key, label in (
            ("events_per_s", "events_per_s"),
            ("rejection_rate_1h", "rejection_rate"),
            ("store_lag_p95_s", "store_lag"),
        )
    )
    articles = table(
        [e(ctx.t("article")), e(ctx.t("open_cases")), e(ctx.t("overdue_cases"))],
        [
            [a(ctx.url("/cases", article=art, lang=ctx.lang), art), e(o), e(d)]
            for art, o, d in data["by_article"]
        ],
        "by-article",
    )
    grades = table(
        [e(ctx.t("grade")), e(ctx.t("providers"))],
        [[e(g), e(n)] for g, n in data["grades"]],
        "grades",
    )
    return layout(
        ctx,
        "overview",
        filters_form(ctx)
        + f'<section class="cards">{cards}</section>'
        + f'<h2>{e(ctx.t("ingest_health"))}</h2><section class="cards">{health}</section>'
        + '<section class="charts">'
        + f'<figure><figcaption>{e(ctx.t("alert_trend"))}</figcaption><canvas id="chart-trend"></canvas></figure>'
        + f'<figure><figcaption>{e(ctx.t("by_article"))}</figcaption><canvas id="chart-articles"></canvas></figure>'
        + f'<figure><figcaption>{e(ctx.t("grades"))}</figcaption><canvas id="chart-grades"></canvas></figure>'
        + "</section>"
        + f"<h2>{e(ctx.t('by_article'))}</h2>{articles}<h2>{e(ctx.t('grades'))}</h2>{grades}"
        + '<script type="application/json" id="overview-data">'
        + json.dumps(data).replace("<", "\\u003c")
        + "</script>",
        scripts=("/static/chart.umd.js", "/static/console.js"),
    )


def _cases_table(ctx: Ctx, rows: Sequence[CaseRow]) -> str:
    def status(c: CaseRow) -> str:
        if c.closed:
            return e(ctx.t("closed"))
        if c.deadlines_missed:
            return f'<span class="bad">{e(ctx.t("overdue"))}</span>'
        return e(ctx.t("open"))

    return table(
        [
            e(ctx.t(k))
            for k in (
                "case",
                "provider",
                "rule",
                "article",
                "severity",
                "service",
                "subject",
                "opened",
                "status",
            )
        ],
        [
            [
                a(f"/cases/{seg(c.case_id)}", c.case_id),
                a(f"/providers/{seg(c.provider_id)}", c.provider_id),
                e(c.rule_id),
                e(c.article),
                e(c.severity),
                e(c.service_id),
                e(c.subject),
                e(cst(c.opened_at)),
                status(c),
            ]
            for c in rows
        ],
        "cases",
    )


def _alerts_table(ctx: Ctx, rows: Sequence[AlertRow]) -> str:
    return table(
        [
            e(ctx.t(k))
            for k in ("alerts", "provider", "rule", "article", "severity", "summary", "detected")
        ],
        [
            [
                a(
                    f"/cases/{seg(x.case_id)}" if x.case_id else f"/alerts/{seg(x.alert_id)}",
                    x.alert_id,
                ),
                # offshore: no provider of ours
                a(f"/providers/{seg(x.provider_id)}", x.provider_id) if x.provider_id else "—",
                e(x.rule_id),
                e(x.article),
                e(x.severity),
                e(x.summary),
                e(cst(x.detected_at)),
            ]
            for x in rows
        ],
        "alerts",
    )


def rule_page(ctx: Ctx, page: str, q: Oversight, scope: Scope, f: Filters, now: int) -> str:
    """Incidents, complaints, filings, labeling: the page's cases and alerts, and its own view."""
    rules = PAGE_RULES[page]
    cases = q.cases(scope, f, rules)
    alerts = q.alerts(scope, f, rules)
    extra = ""
    if page == "filings":
        extra = f"<h2>{e(ctx.t('filings'))}</h2>" + table(
            [
                e(ctx.t(k))
                for k in (
                    "provider",
                    "service",
                    "kind",
                    "status",
                    "filing_number",
                    "model",
                    "public_opinion",
                    "deadline_days",
                    "time",
                )
            ],
            [
                [
                    a(f"/providers/{seg(x.provider_id)}", x.provider_id),
                    e(x.service_id),
                    e(FILING_KINDS.get(x.filing_kind, x.filing_kind)),
                    e(FILING_STATUS.get(x.filing_status, x.filing_status)),
                    e(x.filing_number),
                    e(x.model_version),
                    e("✓" if x.public_opinion else ""),
                    e(x.complaint_deadline_days or ""),
                    e(cst(x.occurred_at)),
                ]
                for x in q.filings(scope, f)
            ],
            "filings",
        )
    elif page == "complaints":
        extra = f"<h2>{e(ctx.t('authority_complaints'))}</h2>" + table(
            [
                e(ctx.t(k))
                for k in ("provider", "case", "authority", "service", "time", "forwarded", "kind")
            ],
            [
                [
                    a(f"/providers/{seg(x.provider_id)}", x.provider_id),
                    e(x.authority_ref),
                    e(x.authority_id),
                    e(x.service_id),
                    e(cst(x.received_at)),
                    e(cst(x.forwarded_at) if x.forwarded_at else ctx.t("not_forwarded")),
                    e(COMPLAINT_CATEGORIES.get(x.category, x.category)),
                ]
                for x in q.authority_complaints(scope, f)
            ],
            "authority-complaints",
        )
    elif page == "labeling":
        extra = f"<h2>{e(ctx.t('labeled_share'))}</h2>" + table(
            [
                e(ctx.t(k))
                for k in ("provider", "service", "generations", "labeled", "labeled_share")
            ],
            [
                [
                    a(f"/providers/{seg(x.provider_id)}", x.provider_id),
                    e(x.service_id),
                    e(x.generations),
                    e(x.labeled),
                    e(f"{x.labeled / x.generations:.2%}" if x.generations else "—"),
                ]
                for x in q.labeling(scope, f, now)
            ],
            "labeling",
        )
    body = (
        filters_form(ctx)
        + f"<p>{e(ctx.t('cases'))}: {_num('cases', len(cases))} · {e(ctx.t('alerts'))}: {_num('alerts', len(alerts))}</p>"
        + extra
        + f"<h2>{e(ctx.t('cases'))}</h2>{_cases_table(ctx, cases)}"
        + f"<h2>{e(ctx.t('alerts'))}</h2>{_alerts_table(ctx, alerts)}"
    )
    return layout(ctx, page, body)


def cases_page(ctx: Ctx, q: Oversight, scope: Scope, f: Filters) -> str:
    cases = q.cases(scope, f)
    body = (
        filters_form(ctx)
        + f"<p>{e(ctx.t('cases'))}: {_num('cases', len(cases))}</p>"
        + _cases_table(ctx, cases)
    )
    return layout(ctx, "cases", body)


def alerts_page(ctx: Ctx, q: Oversight, scope: Scope, f: Filters, rule: str) -> str:
    alerts = q.alerts(scope, f, rule=rule)
    body = (
        filters_form(ctx)
        + f"<p>{e(ctx.t('alerts'))}: {_num('alerts', len(alerts))}</p>"
        + _alerts_table(ctx, alerts)
    )
    return layout(ctx, "alerts", body)


def offshore_page(ctx: Ctx, q: Oversight) -> str:
    rows = q.offshore()
    body = f"<p>{e(ctx.t('offshore'))}: {_num('offshore', len(rows))}</p>" + table(
        [
            e(ctx.t(k))
            for k in (
                "target",
                "observations",
                "first_seen",
                "last_seen",
                "domestic_users",
                "jurisdiction",
                "disposition",
            )
        ],
        [
            [
                e(x.target),
                e(x.observations),
                e(cst(x.first_seen)),
                e(cst(x.last_seen)),
                e(f"{x.estimated_domestic_users:,}"),
                e(x.jurisdiction),
                e(x.disposition),
            ]
            for x in rows
        ],
        "offshore",
    )
    return layout(ctx, "offshore", body)


def provider_page(ctx: Ctx, q: Oversight, provider: str, now: int) -> str:
    cards = q.report_cards(provider)
    cases = q.cases(frozenset({provider}), Filters(provider=provider))
    open_cases = [c for c in cases if not c.closed]
    errors = q.ingest_errors(provider, now)
    lag = q.reporting_lag(provider, now)
    body = (
        f"<h2>{e(provider)}</h2><h2>{e(ctx.t('report_card'))}</h2>"
        + table(
            [
                e(ctx.t(k))
                for k in (
                    "month",
                    "grade",
                    "events",
                    "count",
                    "ingest_errors",
                    "error_rate",
                    "cases",
                    "missed",
                    "violations",
                    "graded_with",
                )
            ],
            [
                [
                    e(c.month),
                    f'<strong class="grade">{e(c.grade or "—")}</strong>',
                    e(c.events_stored),
                    e(c.items_submitted),
                    e(c.items_rejected),
                    e(f"{c.error_rate:.2%}"),
                    e(c.cases_opened),
                    e(c.deadlines_missed),
                    e(c.violations),
                    e(
                        ctx.t("grade_rule").format(
                            a=c.grade_a_error_rate,
                            b=c.max_error_rate,
                            n=c.grade_b_missed_deadlines,
                        )
                        if c.grade
                        else ""
                    ),
                ]
                for c in cards
            ],
            "report-cards",
        )
        + f"<h2>{e(ctx.t('open_cases'))}: {_num('open_cases', len(open_cases))}</h2>"
        + _cases_table(ctx, open_cases)
        + f"<h2>{e(ctx.t('ingest_errors'))}</h2>"
        + table(
            [e(ctx.t("status")), e(ctx.t("field")), e(ctx.t("count"))],
            [[e(x.status), e(x.field_path), e(x.count)] for x in errors],
            "ingest-errors",
        )
        + f"<h2>{e(ctx.t('reporting_lag'))}</h2><p>p50 {_num('lag_p50', int(lag.p50_s or 0))} s ·"
        f" p95 {_num('lag_p95', int(lag.p95_s or 0))} s · {e(ctx.t('events'))}"
        f" {_num('lag_n', lag.events)}</p>"
    )
    return layout(ctx, "provider", body)


def _law_link(ref: str) -> str:
    """ "Art. 14 ¶1" → that text linked to its article on the law page."""
    number = ref.removeprefix("Art. ").split(" ", 1)[0]
    return a(f"/law#art-{number}", ref) if number.isdigit() else e(ref)


def _parameters_table(ctx: Ctx, explained: Sequence[dict[str, Any]]) -> str:
    """What a decision was made with (``domain.rules.explain``), in the viewer's language."""
    zh = ctx.lang == "zh"

    def value(p: dict[str, Any]) -> str:
        shown = " ".join(
            x for x in (p["value_zh" if zh else "value"], p["unit_zh" if zh else "unit"]) if x
        )
        if p["configured"]:
            note = ctx.t("configured_default").format(p["default"])
            return f'{e(shown)} <small class="configured">{e(note)}</small>'
        return e(shown)

    return table(
        [e(ctx.t(k)) for k in ("parameter", "value", "meaning", "source")],
        [
            [
                e(p["name"]),
                value(p),
                e(p["meaning_zh" if zh else "meaning"]),
                e(p["source_zh" if zh else "source"]),
            ]
            for p in explained
        ],
        "parameters",
    )


def case_page(ctx: Ctx, ev: CaseEvidence) -> str:
    rule = ev.rule_doc()
    deadlines = table(
        [e(ctx.t(k)) for k in ("obligation", "due", "status")],
        [
            [
                e(d["obligation"]),
                e(cst(d["due"])),
                f'<span class="st-{e(d["status"])}">{e(ctx.t(d["status"]))}</span>',
            ]
            for d in ev.deadlines
        ],
        "deadlines",
    )
    parameters = _parameters_table(ctx, ev.parameters)
    timeline = table(
        [e(ctx.t(k)) for k in ("time", "kind", "obligation", "evidence")],
        [[e(cst(f["at"])), e(f["kind"]), e(f["obligation"]), e(f["event_id"])] for f in ev.facts],
        "timeline",
    )
    events = "".join(
        f'<details open class="event"><summary>{e(x["kind"])} · {e(x["event_id"])} · '
        f"{e(x['service_id'])} #{e(x['sequence'])} · {e(cst(x['occurred_at']))}</summary>"
        f"<pre>{e(json.dumps(x['payload'], ensure_ascii=False, indent=2))}</pre></details>"
        for x in ev.events
    )
    body = (
        f'<h2 id="case-id">{e(ev.case_id)}</h2>'
        f"<p>{e(ctx.t('provider'))}: {a(f'/providers/{seg(ev.provider_id)}', ev.provider_id)} · "
        f"{e(ctx.t('service'))}: {e(ev.service_id)} · {e(ctx.t('subject'))}: {e(ev.subject)} · "
        f"{e(ctx.t('severity'))}: {e(ev.severity)} · {e(ctx.t('status'))}: "
        f"{e(ctx.t('closed') if ev.closed else ctx.t('open'))}</p>"
        f'<blockquote class="article"><p><strong>{e(rule.get("id"))}</strong> · '
        f"{_law_link(rule.get('article', ev.article))} · {e(rule.get('title', ''))}</p>"
        + "".join(f'<p lang="zh">{e(line)}</p>' for line in rule.get("quote_zh", "").splitlines())
        + f'<p lang="zh" class="cite">{e(rule.get("article_zh", ""))}</p><p lang="en">{e(rule.get("gloss_en", ""))}</p></blockquote>'
        f"<h2>{e(ctx.t('deadlines'))}</h2>{deadlines}"
        f"<h2>{e(ctx.t('parameters'))}</h2>{parameters if ev.parameters else e(ctx.t('none'))}"
        f"<h2>{e(ctx.t('timeline'))}</h2>{timeline}"
        f"<h2>{e(ctx.t('evidence'))}</h2>{events or e(ctx.t('none'))}"
        f'<p><a id="export" class="button" href="/cases/{e(seg(ev.case_id))}/export">{e(ctx.t("export"))}</a></p>'
    )
    return layout(ctx, "case", body)


def alert_page(ctx: Ctx, detail: AlertDetail, events: list[dict[str, Any]]) -> str:
    x, evidence = detail.alert, detail.evidence
    p, aid, rule, art, sev, summary, at = (
        x.provider_id, x.alert_id, x.rule_id, x.article, x.severity, x.summary, x.detected_at,
    )  # fmt: skip
    explained = [x.as_dict() for x in explain(rule, list(detail.parameters))]
    body = (
        f'<h2 id="alert-id">{e(aid)}</h2><p>{e(ctx.t("provider"))}: {a(f"/providers/{seg(p)}", p)} · '
        f"{e(ctx.t('rule'))}: {e(rule)} · {e(ctx.t('article'))}: {e(art)} · "
        f"{e(ctx.t('severity'))}: {e(sev)} · {e(ctx.t('detected'))}: {e(cst(at))}</p>"
        f"<p>{e(summary)}</p>"
        f"<h2>{e(ctx.t('parameters'))}</h2>"
        f"{_parameters_table(ctx, explained) if explained else e(ctx.t('none'))}"
        f"<h2>{e(ctx.t('evidence'))}</h2>"
        + "".join(
            f'<details open class="event"><summary>{e(x["kind"])} · {e(x["event_id"])}</summary>'
            f"<pre>{e(json.dumps(x['payload'], ensure_ascii=False, indent=2))}</pre></details>"
            for x in events
        )
        + (f"<p>{e(', '.join(evidence))}</p>" if evidence and not events else "")
    )
    return layout(ctx, "alerts", body)


def access_log_page(ctx: Ctx, entries: list[dict[str, Any]], broken_at: int | None) -> str:
    chain = ctx.t("chain_ok") if broken_at is None else ctx.t("chain_broken").format(broken_at + 1)
    body = f'<p id="chain">{e(chain)}</p>' + table(
        [e(ctx.t(k)) for k in ("time", "who", "role", "action", "what", "provider")],
        [
            [
                e(cst(x["at"])),
                e(x["username"]),
                e(x["role"]),
                e(x["action"]),
                e(x["target"]),
                e(x["provider_id"]),
            ]
            for x in entries
        ],
        "access-log",
    )
    return layout(ctx, "access_log", body)


def law_page(ctx: Ctx) -> str:
    """The Measures in the official simplified text, an anchor per article (``#art-14``) and,
    beside each, the rules that cite it."""
    citing: dict[int, list[str]] = {}
    for rule in CATALOG:
        for cite in rule.article.cites:
            citing.setdefault(cite.article, []).append(f"{rule.id} ({cite.ref})")
    articles = []
    for number, article in law.measures().items():
        paragraphs = "".join(
            f'<p lang="zh">{e(p.text)}</p>'
            + "".join(f'<p lang="zh" class="item">{e(i)}</p>' for i in p.items)
            for p in article.paragraphs
        )
        rules = citing.get(number)
        enforced = (
            f'<p class="rules">{e(ctx.t("rules_citing"))}: {e(", ".join(rules))}</p>'
            if rules
            else ""
        )
        head = law.Citation(number)
        articles.append(
            f'<section class="article" id="art-{number}"><h3>{e(head.ref_zh)} · {e(head.ref)}</h3>{paragraphs}{enforced}</section>'
        )
    intro = f'<p lang="zh"><strong>{e(law.TITLE)}</strong> ({e(ctx.t("in_force"))} {e(law.IN_FORCE)})</p>'
    return layout(ctx, "law", intro + "".join(articles))


def message_page(ctx: Ctx, key: str) -> str:
    return layout(ctx, key, f'<p class="error">{e(ctx.t(key))}</p>')
