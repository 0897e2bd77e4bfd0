"""HTML building blocks (pure): every dynamic value goes through ``e`` (escaped), every page
through ``layout``. Times are stored in UTC and shown in Beijing time."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from jianguan.console.i18n import label

CST = dt.timezone(dt.timedelta(hours=8))
NAV = ("overview", "incidents", "filings", "complaints", "offshore", "labeling", "alerts", "law")


def e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def cst(ts: int | float | None) -> str:
    """China Standard Time; any stored value renders (one outside the calendar as itself)."""
    if not ts:
        return "—"
    try:
        return dt.datetime.fromtimestamp(float(ts), CST).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return f"{ts} (not a date)"


@dataclass(frozen=True, slots=True)
class Ctx:
    """Who is looking, in which language, at which URL."""

    lang: str
    username: str
    role: str
    csrf: str
    path: str
    query: dict[str, str]

    def t(self, key: str) -> str:
        return label(key, self.lang)

    def url(self, path: str, **query: str) -> str:
        q = {k: v for k, v in query.items() if v}
        return path + ("?" + urlencode(q) if q else "")


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    """``rows`` hold HTML already (escape cells with ``e`` or build links with ``a``)."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{e(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def seg(segment: str) -> str:
    """One URL path segment: ids may hold ``/``, ``#``, ``?``, spaces (case subjects, hours)."""
    return quote(segment, safe="")


def a(href: str, text: Any) -> str:
    return f'<a href="{e(href)}">{e(text)}</a>'


def filters_form(
    ctx: Ctx, fields: Sequence[str] = ("provider", "service", "article", "severity")
) -> str:
    inputs = "".join(
        f'<label>{e(ctx.t(f))} <input name="{f}" value="{e(ctx.query.get(f, ""))}"></label>'
        for f in fields
    )
    dates = "".join(
        f'<label>{e(ctx.t(f))} <input type="date" name="{f}"'
        f' value="{e(ctx.query.get(f, ""))}"></label>'
        for f in ("since", "until")
    )
    return (
        f'<form class="filters" method="get" action="{e(ctx.path)}">{inputs}{dates}'
        f'<input type="hidden" name="lang" value="{e(ctx.lang)}">'
        f'<button type="submit">{e(ctx.t("filter"))}</button></form>'
    )


def layout(ctx: Ctx, title_key: str, body: str, scripts: Sequence[str] = ()) -> str:
    nav = []
    for key in NAV:
        if key == "offshore" and ctx.role == "viewer":
            continue
        cls = (
            ' class="active"'
            if ctx.path == f"/{key}" or (key == "overview" and ctx.path == "/")
            else ""
        )
        nav.append(f'<a{cls} href="/{key if key != "overview" else ""}">{e(ctx.t(key))}</a>')
    if ctx.role == "admin":
        nav.append(f'<a href="/access-log">{e(ctx.t("access_log"))}</a>')
    other = "en" if ctx.lang == "zh" else "zh"
    switch = e(ctx.url(ctx.path, **{**ctx.query, "lang": other}))
    script_tags = "".join(f'<script src="{e(s)}"></script>' for s in scripts)
    return f"""<!doctype html>
<html lang="{"zh-CN" if ctx.lang == "zh" else "en"}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(ctx.t(title_key))} · {e(ctx.t("title"))}</title>
<link rel="stylesheet" href="/static/console.css"></head>
<body data-lang="{e(ctx.lang)}">
<header><strong>监管 jianguan</strong> <span class="sub">{e(ctx.t("title"))}</span>
<nav>{"".join(nav)}</nav>
<span class="who">{e(ctx.username)} ({e(ctx.role)})
<a id="lang-switch" href="{switch}">{e(ctx.t("language"))}</a>
<form method="post" action="/logout" class="inline">
<input type="hidden" name="csrf" value="{e(ctx.csrf)}">
<button type="submit" id="logout">{e(ctx.t("logout"))}</button></form></span></header>
<main><h1>{e(ctx.t(title_key))}</h1>{body}<p class="note">{e(ctx.t("times_in"))}</p></main>
{script_tags}</body></html>"""


def login_page(lang: str, csrf: str, error: str = "", next_url: str = "/") -> str:
    err = f'<p class="error" role="alert">{e(label(error, lang))}</p>' if error else ""
    return f"""<!doctype html>
<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">
<title>{e(label("login", lang))} · {e(label("title", lang))}</title>
<link rel="stylesheet" href="/static/console.css"></head>
<body class="login"><main><h1>监管 jianguan</h1><p>{e(label("title", lang))}</p>{err}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{e(csrf)}">
<input type="hidden" name="next" value="{e(next_url)}">
<label>{e(label("username", lang))}
<input name="username" autocomplete="username" required></label>
<label>{e(label("password", lang))}
<input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit" id="login">{e(label("login", lang))}</button></form></main></body></html>"""
