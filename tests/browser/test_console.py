"""The regulator console in a real browser (Debian's Chromium through Playwright), on `jianguan up`
loaded with the scenario library: each role logs in; page numbers equal direct ClickHouse
counts; a case leads to its evidence and exports it; a department viewer is refused another
provider's case; every view of evidence is in the access log. Screenshots go to
tests/browser/artifacts/."""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import io
import json
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from jianguan.accounts.registry import Authority, Provider, ProviderRegistry, token_digest
from jianguan.accounts.regulators import Account, Accounts, hash_password, issue_api_token
from jianguan.runtime.launcher import RunningUp, launched_up
from jianguan.simulator.authority import record_actions
from jianguan.store.executor import ServerExecutor
from jianguan_sdk import builders
from jianguan_sdk.chain import Chain
from jianguan_sdk.client import IngestClient
from tests.scenarios.library import load_all

pytestmark = pytest.mark.integration
ARTIFACTS = Path(__file__).parent / "artifacts"
SCENARIOS = load_all()
AUTHORITIES = sorted({who for s in SCENARIOS for who, _ in s.actions})
SCOPED = "sc-illegal-output-unreported"  # the department viewer's only provider
OTHER = "sc-complaint-resolved-late"
SECTOR = "news"  # the scoped provider's sector; the department viewer is scoped to it
# role, sectors, and the authority the account works for (its inspections, Art. 19 ¶2)
USERS = {
    "chen-admin": ("admin", frozenset[str](), ""),
    "li-analyst": ("analyst", frozenset[str](), "cac-bj"),
    "wang-edu": ("viewer", frozenset({SECTOR}), ""),
}
INSPECTION = "ART19-INSPECTION:sc-inspection-partly-answered:cac-bj:INS-2026-04"
PASSWORD = "correct horse battery staple"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningUp]:
    state = tmp_path_factory.mktemp("console")
    registry = ProviderRegistry(
        [
            Provider(
                s.provider_id,
                s.name,
                token_sha256=token_digest(s.name),
                sector=SECTOR if s.provider_id == SCOPED else "other",
            )
            for s in SCENARIOS
        ],
        [Authority(a, a, token_digest(f"token-{a}")) for a in AUTHORITIES],
    )
    accounts = Accounts(
        [
            Account(u, u, role, hash_password(PASSWORD), sectors=sectors, authority=authority)
            for u, (role, sectors, authority) in USERS.items()
        ]
    )
    (state / "regulators.toml").write_text(accounts.dump())
    env = {
        "JIANGUAN_RULE_TICK_SECONDS": "1",
        "JIANGUAN_CHECK_INTERVAL_SECONDS": "1",
        "JIANGUAN_REGULATORS_FILE": str(state / "regulators.toml"),
    }
    with launched_up(state / "up", registry, env) as running:

        async def send_all() -> None:
            for s in SCENARIOS:
                async with IngestClient(running.gateway, token=s.name) as client:
                    assert (await client.publish_batch(s.events)).accepted == len(s.events)

        asyncio.run(send_all())
        for authority in AUTHORITIES:  # the authorities' side of the histories
            mine = [a for s in SCENARIOS for who, a in s.actions if who == authority]
            acks = asyncio.run(record_actions(running.gateway, f"token-{authority}", mine))
            assert all(a.recorded for a in acks), acks
        expected = sum(len(s.facts) for s in SCENARIOS)
        deadline = time.monotonic() + 120
        # the cases' steps (kind 5 is a case's STATUS, which sums them up)
        steps = "SELECT count() FROM case_facts FINAL WHERE kind != 5 AND retracted = 0"
        while _q(running, steps)[0][0] < expected:
            assert time.monotonic() < deadline, "the scenarios' facts never settled"
            time.sleep(0.5)
        while _q(running, "SELECT count() FROM alerts FINAL WHERE rule_id = 'ART12-LABELING'") == [
            (0,)
        ]:
            assert time.monotonic() < deadline, "the store checks never ran"
            time.sleep(0.5)
        # the grades the console shows are the report cards of the last store-check round: wait
        # for a round that began after the facts and the alerts were all stored
        settled = int(time.time()) + 1
        taken = "SELECT toUInt32(max(taken)) FROM report_card_snapshots"
        while _q(running, taken)[0][0] < settled:
            assert time.monotonic() < deadline, "no store-check round recorded the report cards"
            time.sleep(0.5)
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def _q(up: RunningUp, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    ex = ServerExecutor(up.writer_url)
    try:
        return ex.execute(sql, params)
    finally:
        ex.close()


def _console(up: RunningUp) -> str:
    for line in up.banner.splitlines():
        if line.strip().startswith("console (regulators)"):
            return line.split()[-1]
    raise AssertionError(up.banner)


def _login(browser: Browser, up: RunningUp, user: str) -> Page:
    page = browser.new_page(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page.goto(_console(up) + "/")
    assert "/login" in page.url  # nothing without logging in
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#n-open_cases")
    return page


def _num(page: Page, key: str) -> int:
    """A number the page shows (formatted for people), by the raw value it carries."""
    return int(float(page.get_attribute(f"#n-{key}", "data-value") or "nan"))


def _counts(up: RunningUp, providers: tuple[str, ...] | None, authority: str) -> dict[str, int]:
    """What a viewer of ``providers`` (None: all) working for ``authority`` may count: no other
    authority's inspections."""
    where, params = " WHERE 1 = 1", {"a": authority}
    if providers is not None:
        where, params = " WHERE provider_id IN %(p)s", {"p": providers, "a": authority}
    mine = " AND (rule_id != 'ART19-INSPECTION' OR splitByChar(':', case_id)[3] = %(a)s)"
    (open_, overdue), = _q(
        up, "SELECT countIf(closed = 0), countIf(closed = 0 AND deadlines_missed > 0) FROM cases"
        + where + mine, params,
    )  # fmt: skip
    return {
        "open_cases": open_,
        "overdue_cases": overdue,
        "alerts": _q(
            up, "SELECT count() FROM alerts FINAL" + where + mine + " AND retracted = 0", params
        )[0][0],
        "events": _q(up, "SELECT count() FROM events FINAL" + where, params)[0][0],
    }


@pytest.mark.parametrize("user", list(USERS))
def test_each_role_sees_the_numbers_clickhouse_has(
    up: RunningUp, browser: Browser, user: str
) -> None:
    page = _login(browser, up, user)
    role, _, authority = USERS[user]
    want = _counts(up, (SCOPED,) if role == "viewer" else None, authority)
    got = {k: _num(page, k) for k in want}
    assert got == want
    assert want["open_cases"] > 0
    if role == "viewer":
        assert "/offshore" not in page.inner_html("nav")
        assert page.goto(_console(up) + "/offshore").status == 403
    page.screenshot(path=str(ARTIFACTS / f"overview-{role}.png"), full_page=True)
    page.close()


def test_pages_show_the_cases_clickhouse_has_and_a_screenshot_of_each(
    up: RunningUp, browser: Browser
) -> None:
    page = _login(browser, up, "li-analyst")
    base = _console(up)
    for path, rules in (
        ("/incidents", "^ART14-"), ("/complaints", "^ART1[58]-"),
        ("/filings", "^ART(17-|4-SAFETY-EVALUATION)"), ("/labeling", "^ART12-"),
        ("/supervision", "^ART(19|21)-"),
    ):  # fmt: skip
        page.goto(base + path)
        # li-analyst works for cac-bj: its inspections are among what it sees
        cases = _q(up, "SELECT count() FROM cases WHERE match(rule_id, %(r)s)", {"r": rules})[0][0]
        alerts = _q(
            up,
            "SELECT count() FROM alerts FINAL WHERE match(rule_id, %(r)s) AND retracted = 0",
            {"r": rules},
        )
        assert (_num(page, "cases"), _num(page, "alerts")) == (cases, alerts[0][0]), path
        page.screenshot(path=str(ARTIFACTS / f"{path.strip('/')}.png"), full_page=True)
    page.goto(base + "/offshore")
    # offshore_service and offshore_service_showing_an_invented_number (not its real filing)
    assert _num(page, "offshore") == _q(up, "SELECT count() FROM offshore_cases")[0][0] == 2
    page.screenshot(path=str(ARTIFACTS / "offshore.png"), full_page=True)
    page.goto(base + f"/providers/{SCOPED}")
    assert page.inner_text(".grade").strip() == "B"
    page.screenshot(path=str(ARTIFACTS / "provider.png"), full_page=True)
    # A case whose id holds "#" (a user's n-th case) opens from its link.
    page.goto(base + "/incidents?provider=sc-repeat-offender-ignored")
    page.click("table.cases a[href^='/cases/']")
    page.wait_for_selector("#case-id")
    assert page.inner_text("#case-id").endswith("u_bad#1")
    assert "处置措施" in page.inner_text("table.deadlines")  # the enforcement, in Chinese
    # Filters live in the URL: a shared link shows the same view.
    page.goto(base + f"/incidents?provider={SCOPED}&lang=en")
    assert _num(page, "cases") == 1
    assert "Incidents" in page.inner_text("h1")
    page.close()


def test_a_case_leads_to_its_evidence_and_exports_it(up: RunningUp, browser: Browser) -> None:
    page = _login(browser, up, "li-analyst")
    page.goto(_console(up) + f"/incidents?provider={SCOPED}")
    page.click("table.cases a[href^='/cases/']")
    page.wait_for_selector("#case-id")
    assert "ART14-ILLEGAL-CONTENT" in page.inner_text("#case-id")
    assert "停止生成" in page.inner_text("blockquote.article")  # the article, quoted
    assert "hit-2" in page.inner_text("details.event")  # the raw evidence
    statuses = page.inner_text("table.deadlines")
    assert "逾期" in statuses  # report and rectification overdue
    page.screenshot(path=str(ARTIFACTS / "case.png"), full_page=True)
    with page.expect_download() as info:
        page.click("#export")
    data = Path(info.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        manifest = z.read("MANIFEST.sha256").decode().splitlines()
        assert sorted(line.split("  ")[1] for line in manifest) == ["case.json", "events.csv"]
        for line in manifest:
            digest, name = line.split("  ")
            assert hashlib.sha256(z.read(name)).hexdigest() == digest
        assert "hit-2" in z.read("events.csv").decode()
    page.close()


def test_a_department_viewer_is_refused_another_providers_case(
    up: RunningUp, browser: Browser
) -> None:
    (case_id,) = _q(up, "SELECT case_id FROM cases WHERE provider_id = %(p)s", {"p": OTHER})[0]
    page = _login(browser, up, "wang-edu")
    resp = page.goto(_console(up) + f"/cases/{case_id}")
    assert resp is not None
    # Answered exactly as a case that does not exist: the viewer learns nothing of its id.
    assert resp.status == 404
    refused = page.inner_text("main")
    assert "Content-Security-Policy".lower() in resp.headers  # error pages are hardened too
    missing = page.goto(_console(up) + "/cases/ART14-ILLEGAL-CONTENT%3Anobody%3Anothing")
    assert missing is not None
    assert missing.status == 404
    assert page.inner_text("main") == refused
    assert page.goto(_console(up) + f"/cases/{case_id}/export").status == 404
    assert page.goto(_console(up) + f"/providers/{OTHER}").status == 403
    assert page.goto(_console(up) + "/access-log").status == 403
    # Its own provider's case opens.
    (own,) = _q(up, "SELECT case_id FROM cases WHERE provider_id = %(p)s LIMIT 1", {"p": SCOPED})[0]
    assert page.goto(_console(up) + f"/cases/{own}").status == 200
    page.close()
    # The administrator sees who looked at which evidence, and who was refused.
    admin = _login(browser, up, "chen-admin")
    admin.goto(_console(up) + "/access-log")
    log = admin.inner_text("table.access-log")
    assert "wang-edu" in log
    assert "拒绝：超出查看权限" in log  # refused
    assert case_id in log
    assert "查看案件" in log  # view-case
    actions = [c.get_attribute("data-action") for c in admin.locator("td[data-action]").all()]
    assert {"refused", "view-case"} <= set(actions)
    assert "链完整" in admin.inner_text("#chain")
    admin.screenshot(path=str(ARTIFACTS / "access-log.png"), full_page=True)
    admin.close()


def test_an_inspection_is_seen_only_by_the_authority_that_made_it(
    up: RunningUp, browser: Browser
) -> None:
    """Art. 19 ¶2: the inspection request, its case, its alert and the provider's answer are
    seen by the requesting authority's accounts only; an order to correct by every regulator."""
    (alert_id,) = _q(
        up, "SELECT alert_id FROM alerts FINAL WHERE case_id = %(c)s", {"c": INSPECTION}
    )[0]
    base = _console(up)
    own = _login(browser, up, "li-analyst")  # works for cac-bj, which made the request
    own.goto(base + "/supervision")
    demands = own.inner_text("table.demands")
    assert "INS-2026-04" in demands
    assert "ORD-2026-17" in demands
    assert "训练数据来源" in demands  # what it asks, in Chinese
    own.screenshot(path=str(ARTIFACTS / "supervision.png"), full_page=True)
    assert own.goto(base + f"/cases/{quote(INSPECTION)}").status == 200
    assert "ans-pa" in own.inner_text("main")  # the provider's answer, as evidence
    assert own.goto(base + f"/alerts/{quote(alert_id)}").status == 200
    own.close()
    other = _login(browser, up, "chen-admin")  # an administrator of no authority
    other.goto(base + "/supervision")
    demands = other.inner_text("table.demands")
    assert "ORD-2026-17" in demands
    assert "INS-2026-04" not in demands
    for path in ("/supervision", "/cases?search=INS-2026", "/alerts?search=INS-2026", "/"):
        other.goto(base + path)
        assert "INS-2026-04" not in other.content(), path
    assert other.goto(base + f"/cases/{quote(INSPECTION)}").status == 404
    assert other.goto(base + f"/cases/{quote(INSPECTION)}/export").status == 404
    assert other.goto(base + f"/alerts/{quote(alert_id)}").status == 404
    other.goto(base + "/access-log")
    log = other.inner_text("table.access-log")
    assert INSPECTION in log
    assert alert_id in log
    other.close()


def test_language_switch_logout_and_csrf(up: RunningUp, browser: Browser) -> None:
    page = _login(browser, up, "li-analyst")
    assert "总览" in page.inner_text("h1")
    page.click("#lang-switch")
    page.wait_for_selector("text=Overview")
    assert "Open cases" in page.inner_text("main")
    # A cross-site form cannot log the user out (or post anything): no CSRF token, no action.
    resp = page.request.post(_console(up) + "/logout", form={"csrf": "forged"})
    assert resp.status == 403
    page.click("#logout")
    page.wait_for_url("**/login")
    assert page.goto(_console(up) + "/cases").url.split("?")[0].endswith("/login")
    page.close()


def test_the_overview_refreshes_live(up: RunningUp, browser: Browser) -> None:
    """The numbers on an open page follow the events accepted, without reloading it."""
    page = _login(browser, up, "li-analyst")
    before = _num(page, "events")
    chain = Chain("live-svc")
    events = [chain.seal(builders.generation(request_model="m")) for _ in range(25)]

    async def send() -> int:
        async with IngestClient(up.gateway, token=SCENARIOS[0].name) as client:
            return (await client.publish_batch(events)).accepted

    # Playwright's sync API runs an event loop in this thread: send from another one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, send()).result(60) == 25
    # The page updates itself (no reload). Polled from here: the console's CSP forbids the eval
    # a wait_for_function would need; the deadline guards against hanging, it bounds no latency.
    deadline = time.monotonic() + 60
    while _num(page, "events") < before + 25 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert _num(page, "events") == before + 25
    page.close()


# The console's own words, as they appear alone in headings, labels and buttons.
_CHROME = "h1, h2, th, nav a, label, button, .label, .note, figcaption, .message p"


def test_every_page_in_chinese_shows_no_english_of_its_own(up: RunningUp, browser: Browser) -> None:
    """In Chinese, no heading, label or button of any page is left in English (the catalog's
    source strings); a provider registered but silent gets its page; unknown paths get the
    console's own 404 page."""
    from jianguan.console.i18n import catalog

    english = set(catalog("zh"))
    page = _login(browser, up, "chen-admin")
    base = _console(up)
    (case_id,) = _q(up, "SELECT case_id FROM cases LIMIT 1")[0]
    paths = [
        "/", "/incidents", "/filings", "/complaints", "/labeling", "/offshore", "/alerts",
        "/cases", f"/providers/{SCOPED}", "/providers/registered-but-silent",
        f"/cases/{quote(case_id, safe='')}", "/access-log", "/law",
    ]  # fmt: skip
    for path in paths:
        resp = page.goto(base + path)
        assert resp is not None
        assert resp.status == 200, path
        shown = [t.strip() for t in page.locator(_CHROME).all_inner_texts()]
        left = sorted({t for t in shown if t in english})
        assert left == [], (path, left)
    page.goto(base + "/providers/registered-but-silent")
    assert "近24小时无事件" in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "provider-without-events.png"), full_page=True)
    missing = page.goto(base + "/no/such/page")
    assert missing is not None
    assert missing.status == 404
    assert "未找到" in page.inner_text("main .message")
    assert page.locator("nav a").count() >= 7  # in the console's layout, not plain text
    page.screenshot(path=str(ARTIFACTS / "not-found.png"), full_page=True)
    page.goto(base + "/no/such/page?lang=en")
    assert "Not found" in page.inner_text("main .message")
    page.close()


def _case_ids(page: Page) -> list[str]:
    return [
        t.strip() for t in page.locator("table.cases tbody tr td:first-child").all_inner_texts()
    ]


def test_lists_page_sort_search_and_export(up: RunningUp, browser: Browser) -> None:
    """A list shows its true total, pages through every row once, sorts by a column, searches,
    refuses a bad date with a message, and exports the whole filtered list."""
    page = _login(browser, up, "li-analyst")  # works for cac-bj: sees every case
    base = _console(up)
    total = _q(up, "SELECT count() FROM cases")[0][0]
    assert total > 10, "the scenarios open cases for more than one page of 10"
    page.goto(base + "/cases?size=10")
    assert _num(page, "cases") == total
    seen = _case_ids(page)
    assert len(seen) == 10
    pages = 1
    while len(seen) < total:  # every row once, page by page
        pages += 1
        page.click("nav.pager[data-list=cases] a.next")
        page.wait_for_url(f"**page={pages}**")
        more = _case_ids(page)
        assert more
        assert not set(more) & set(seen)
        seen += more
    assert (len(seen), pages) == (total, -(-total // 10))
    page.screenshot(path=str(ARTIFACTS / "cases-page-2.png"), full_page=True)
    # sorting by severity, most severe first (the header's second click)
    page.goto(base + "/cases?size=10")
    page.click("table.cases th a[data-sort=severity]")
    page.click("table.cases th a[data-sort=severity]")
    page.wait_for_url("**sort=-severity**")
    assert page.locator("table.cases tbody tr").first.locator("td").nth(4).inner_text() == "严重"
    # search: one case by a part of its id
    page.fill("input[name=q]", "u_bad#1")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**q=u_bad**")
    assert _num(page, "cases") == 1
    # a date that is no date is said so, not ignored
    bad = page.goto(base + "/cases?since=2026-13-45")
    assert bad is not None
    assert bad.status == 400
    assert "2026-13-45" in page.inner_text("p.error")
    # the whole list, as CSV (with a BOM, headers in Chinese) and as JSON
    page.goto(base + "/cases?size=10&sort=-opened")
    with page.expect_download() as download:
        page.click("nav.pager[data-list=cases] a.export-csv")
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("服务提供者,案件,规则")
    assert len(lines) == total + 1
    exported = page.request.get(base + "/cases?format=json&list=cases&status=overdue")
    doc = exported.json()
    overdue = _q(up, "SELECT count() FROM cases WHERE closed = 0 AND deadlines_missed > 0")[0][0]
    assert doc["total"] == doc["exported"] == overdue
    page.close()


def test_the_provider_index(up: RunningUp, browser: Browser) -> None:
    page = _login(browser, up, "chen-admin")
    page.goto(_console(up) + "/providers")
    rows = page.locator("table.providers tbody tr")
    ids = [
        t.strip() for t in page.locator("table.providers tbody td:first-child").all_inner_texts()
    ]
    assert set(ids) >= {s.provider_id for s in SCENARIOS}
    assert _num(page, "providers") == rows.count() == len(ids)
    mine = page.locator("table.providers tbody tr", has_text=SCOPED)
    assert mine.locator(".grade").inner_text() == "B"
    page.click("table.providers th a[data-sort=open]")
    page.click("table.providers th a[data-sort=open]")
    page.wait_for_url("**sort=-open**")
    opened = [
        int(t.replace(",", ""))
        for t in page.locator("table.providers tbody td:nth-child(5)").all_inner_texts()
    ]
    assert opened == sorted(opened, reverse=True)
    page.screenshot(path=str(ARTIFACTS / "providers.png"), full_page=True)
    page.close()


DEPARTMENT = Path(__file__).resolve().parents[2] / "dashboards" / "department"


def _api(url: str, token: str | None, method: str = "GET") -> tuple[int, Any]:
    request = urllib.request.Request(url, method=method)  # noqa: S310 (the console, on loopback)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 (loopback)
            body = resp.read()
            kind = resp.headers.get("Content-Type", "")
            return resp.status, json.loads(body) if "json" in kind else body
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_a_departments_grafana_reads_the_console_in_its_scope(up: RunningUp) -> None:
    """Every panel of the department dashboard, read with the department's API token: it
    answers with the columns the panel shows and names none of the providers outside the
    department's scope; the analyst's token sees more; a token opens no page and cannot post;
    every read of a list is in the access log."""
    console, regulators = _console(up), up.state_dir.parent / "regulators.toml"
    token = issue_api_token(regulators, "wang-edu")
    analyst = issue_api_token(regulators, "li-analyst")
    dashboard = json.loads((DEPARTMENT / "jianguan-department.json").read_text())
    reads = 0
    for panel in dashboard["panels"]:
        (target,) = panel["targets"]
        status, body = _api(console + target["url"], token)
        assert status == 200, (panel["title"], status, body)
        reads += not target["url"].startswith("/api/overview")  # lists are logged, as exports
        found = body[target["root_selector"]]
        rows = found if isinstance(found, list) else [found]
        for row in rows:
            assert {c["selector"] for c in target["columns"]} <= set(row), panel["title"]
        assert {r["provider_id"] for r in rows if "provider_id" in r} <= {SCOPED}, panel["title"]
    _, seen = _api(console + "/api/cases", token)
    assert seen["total"] > 0
    assert {r["provider_id"] for r in seen["rows"]} == {SCOPED}
    _, everyone = _api(console + "/api/cases", analyst)
    assert {r["provider_id"] for r in everyone["rows"]} > {SCOPED}
    _, providers = _api(console + "/api/providers", token)
    assert [r["provider_id"] for r in providers["rows"]] == [SCOPED]
    # nothing without a (right) token; a token reads /api/ only, and posts nothing
    assert _api(console + "/api/cases", None)[0] == 401
    assert _api(console + "/api/cases", token + "x")[0] == 401
    assert _api(console + "/api/cases?range=1y", token)[0] == 400
    bearer = {"Authorization": f"Bearer {token}"}
    page = urllib.request.Request(console + "/cases", headers=bearer)  # noqa: S310
    with urllib.request.urlopen(page, timeout=30) as resp:  # noqa: S310 (loopback)
        assert "/login" in resp.url  # redirected to log in: the token opened no page
    assert _api(console + "/api/cases", token, method="POST")[0] in (401, 403, 405)
    # a token issued again replaces the old one at once
    fresh = issue_api_token(regulators, "wang-edu")
    assert _api(console + "/api/cases", token)[0] == 401
    assert _api(console + "/api/cases", fresh)[0] == 200
    reads += 1
    log = (up.state_dir / "console" / "evidence-access.log").read_text()
    api_reads = [line for line in log.splitlines() if '"/api/' in line and "wang-edu" in line]
    assert len(api_reads) >= reads
