"""Pages from Jinja2 templates (``console/templates``), autoescaped, in the viewer's language.

Every template gets ``ctx`` (who is looking, where), ``_`` (the viewer's translation) and the
filters that show values for people (``console.formats``) and name stored codes
(``console.i18n``)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from jianguan.console import formats, i18n, lists
from jianguan.console.summaries import shown_summary

NAV = (
    ("/", i18n.N_("Overview")),
    ("/incidents", i18n.N_("Incidents")),
    ("/filings", i18n.N_("Filings")),
    ("/complaints", i18n.N_("Complaints")),
    ("/supervision", i18n.N_("Inspections and orders")),
    ("/offshore", i18n.N_("Offshore services")),
    ("/labeling", i18n.N_("Labeling")),
    ("/alerts", i18n.N_("Alerts")),
    ("/providers", i18n.N_("Providers")),
    ("/law", i18n.N_("Text of the Measures")),
)


def _lang(context: Context) -> str:
    ctx = context.get("ctx")
    return str(getattr(ctx, "lang", None) or context.get("lang") or "zh")


@pass_context
def _translate(context: Context, text: str) -> str:
    return i18n.translate(str(text), _lang(context))


@pass_context
def _duration(context: Context, seconds: float | None) -> str:
    return formats.duration(seconds, _lang(context))


@pass_context
def _article(context: Context, ref: str) -> str:
    return formats.article(str(ref), _lang(context))


def _labelled(labels: dict[int, str]) -> Any:
    @pass_context
    def show(context: Context, code: int) -> str:
        label = labels.get(int(code))
        return i18n.translate(label, _lang(context)) if label else str(code)

    return show


@pass_context
def _summary(context: Context, alert: Any) -> str:
    return shown_summary(alert, _lang(context))


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


ENV = Environment(
    loader=PackageLoader("jianguan.console", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.globals.update(
    _=_translate,
    FILTER_LABELS=i18n.FILTER_LABELS,
    STATUS_LABELS=i18n.STATUS_LABELS,
    FACT_LABELS=i18n.FACT_LABELS,
    ACTION_LABELS=i18n.ACTION_LABELS,
    RANGES=lists.RANGES,
    PAGE_SIZES=lists.PAGE_SIZES,
)
ENV.filters.update(
    cst=formats.beijing,
    number=formats.number,
    percent=formats.percent,
    duration=_duration,
    article=_article,
    seg=lambda s: quote(str(s), safe=""),
    pretty=_pretty,
    summary=_summary,
    filing_kind=_labelled(i18n.FILING_KINDS),
    filing_status=_labelled(i18n.FILING_STATUSES),
    complaint_category=_labelled(i18n.COMPLAINT_CATEGORIES),
)


def render(template: str, **values: Any) -> str:
    """``template`` filled with ``values`` (``ctx`` among them for every page but the login)."""
    return ENV.get_template(template).render(nav=NAV, **values)
