"""What a list's URL asks for (pure): its filters, which page in which order, and exports of the
whole filtered list as CSV (UTF-8 with a BOM, so spreadsheet programs read Chinese; times in
Beijing time) or JSON."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from jianguan.console import formats, i18n
from jianguan.console.i18n import N_, translate
from jianguan.store.oversight import STATUSES, Filters, Window

PAGE_SIZES = (10, 25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
# At most this many rows in one export (the page says so when a list is longer).
EXPORT_LIMIT = 100_000
# Relative ranges a filter offers, in seconds before now.
RANGES = {
    "24h": (N_("Last 24 hours"), 86_400),
    "7d": (N_("Last 7 days"), 7 * 86_400),
    "30d": (N_("Last 30 days"), 30 * 86_400),
    "90d": (N_("Last 90 days"), 90 * 86_400),
}
# Columns holding Unix times: exported as Beijing time.
_TIMES = frozenset(
    {"opened_at", "detected_at", "occurred_at", "received_at", "forwarded_at", "first_seen",
     "last_seen", "last_report_at"}
)  # fmt: skip


def filters_of(query: Mapping[str, str], now: float, prefix: str = "") -> tuple[Filters, list[str]]:
    """The filters a list's query string sets, and what in it could not be used (each as a
    message to show; the filter it concerns is then not applied)."""
    errors: list[str] = []

    def date(name: str) -> dt.date | None:
        text = query.get(name, "").strip()
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            errors.append(f"{name}:{text}")
            return None

    status = query.get("status", "")
    if status and status not in STATUSES:
        errors.append(f"status:{status}")
        status = ""
    preset = query.get("range", "")
    after = None
    if preset in RANGES:
        after = int(now) - RANGES[preset][1]
    elif preset:
        errors.append(f"range:{preset}")
    since, until = date("since"), date("until")
    if since and until and since > until:
        errors.append(f"until:{until.isoformat()}")
        until = None
    return (
        Filters(
            provider=query.get("provider", ""),
            service=query.get("service", ""),
            article=query.get("article", ""),
            severity=query.get("severity", ""),
            since=since,
            until=until,
            after_s=after,
            status=status,
            search=query.get(f"{prefix}q", query.get("q", "")),
        ),
        errors,
    )


def window_of(query: Mapping[str, str], prefix: str = "") -> Window:
    """Which page (``page``, from 1), how many rows (``size``) and the order (``sort``)."""
    try:
        size = int(query.get(f"{prefix}size", DEFAULT_PAGE_SIZE))
    except ValueError:
        size = DEFAULT_PAGE_SIZE
    if size not in PAGE_SIZES:
        size = DEFAULT_PAGE_SIZE
    try:
        page = max(1, int(query.get(f"{prefix}page", "1")))
    except ValueError:
        page = 1
    return Window(query.get(f"{prefix}sort", ""), (page - 1) * size, size)


def error_message(error: str, lang: str) -> str:
    """A filter the URL got wrong, said for the viewer."""
    field, _, value = error.partition(":")
    if field in ("since", "until"):
        text = translate(
            N_("Not a date: {value} (use YYYY-MM-DD; the end not before the start)"), lang
        )
    elif field == "status":
        text = translate(N_("No such status: {value}"), lang)
    else:
        text = translate(N_("No such range: {value}"), lang)
    return text.format(value=value)


# What an exported column is called (its field's name when not here).
HEADERS = {
    "provider_id": N_("Provider"), "case_id": N_("Case"), "rule_id": N_("Rule"),
    "article": N_("Article"), "severity": N_("Severity"), "service_id": N_("Service"),
    "subject": N_("Subject"), "opened_at": N_("Opened"), "deadlines_missed": N_("Deadlines missed"),
    "closed": N_("Closed"), "alert_id": N_("Alert"), "summary": N_("Summary"),
    "detected_at": N_("Detected"), "filing_kind": N_("Kind"), "filing_status": N_("Status"),
    "filing_number": N_("Filing number"), "model_version": N_("Model"),
    "public_opinion": N_("Public opinion"),
    "complaint_deadline_days": N_("Published deadline (days)"), "occurred_at": N_("Time"),
    "name": N_("Name"), "sector": N_("Sector"), "grade": N_("Grade"),
    "open_cases": N_("Open cases"), "overdue_cases": N_("Overdue cases"),
    "last_report_at": N_("Last report"), "ingest_errors_7d": N_("Ingest errors, last 7 days"),
}  # fmt: skip
_CODES = {"filing_kind": i18n.FILING_KINDS, "filing_status": i18n.FILING_STATUSES}


def _cell(name: str, value: Any, lang: str) -> Any:
    if name in _TIMES:
        return formats.beijing(value) if value else ""
    if name in _CODES:
        label = _CODES[name].get(int(value))
        return translate(label, lang) if label else value
    if name == "severity":
        return translate(str(value), lang)
    if isinstance(value, bool):
        return translate(N_("yes") if value else N_("no"), lang)
    if isinstance(value, tuple):
        return " ".join(map(str, value))
    return value


def export_csv(rows: Sequence[Any], fields: Sequence[str], lang: str) -> bytes:
    """Rows (named-row dataclasses with ``fields``) as CSV: a BOM, then a header in the
    viewer's language and the values as the console shows them (times in Beijing time)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([translate(HEADERS.get(f, f), lang) for f in fields])
    for row in rows:
        writer.writerow([_cell(f, getattr(row, f), lang) for f in fields])
    return "\ufeff".encode() + out.getvalue().encode()


def export_json(rows: Sequence[Any], total: int, filters: Filters) -> bytes:
    """Rows as JSON with the field names, times both as Unix seconds and in Beijing time."""
    items = []
    for row in rows:
        item = dataclasses.asdict(row)
        for name in list(item):
            if name in _TIMES and item[name]:
                item[f"{name}_beijing"] = formats.beijing(item[name])
        items.append(item)
    doc = {
        "total": total,
        "exported": len(items),
        "filters": {k: (v.isoformat() if isinstance(v, dt.date) else v)
                    for k, v in dataclasses.asdict(filters).items() if v},
        "times": "Unix seconds; *_beijing: Beijing time (UTC+8)",
        "rows": items,
    }  # fmt: skip
    return json.dumps(doc, ensure_ascii=False, indent=1).encode()
