"""The console's HTTP server (aiohttp): login, sessions, CSRF, roles and scopes, security headers,
evidence access logging; every page's data through ``Oversight`` on the read-only ClickHouse user.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from jianguan.accounts.registry import Provider, ProviderRegistry, RegistryError
from jianguan.accounts.registry_watch import RegistrySource, RegistryWatcher
from jianguan.accounts.regulators import Account, Accounts, check_password, hash_password
from jianguan.console import evidence, formats, lists, pages
from jianguan.console.access_log import Access, AccessLog
from jianguan.console.context import Ctx
from jianguan.console.i18n import LANGS, SEVERITIES, STATUS_NAMES, translate
from jianguan.console.sessions import Sessions, csrf_ok, local_redirect
from jianguan.domain.cases import of_fact_id
from jianguan.domain.rules.catalog import CATALOG
from jianguan.domain.rules.demands import visible_to
from jianguan.store.executor import ClickHouseUrl, ServerExecutor
from jianguan.store.oversight import STATUSES, AlertDetail, Oversight, Scope

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
STATIC = {
    "console.css": (HERE / "static" / "console.css", "text/css"),
    "console.js": (HERE / "static" / "console.js", "application/javascript"),
    "chart.umd.js": (
        HERE / "web" / "node_modules" / "chart.js" / "dist" / "chart.umd.js",
        "application/javascript",
    ),
}
SESSION_COOKIE, LOGIN_CSRF_COOKIE, LANG_COOKIE = "jg_session", "jg_login_csrf", "jg_lang"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# Where a request keeps the account its API token names (``Console._api_reader``).
_READER = "jianguan.api_reader"


def _harden(resp: web.StreamResponse, request: web.Request) -> None:
    """The security headers of every answer, error pages included."""
    resp.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
    )
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "same-origin"
    resp.headers["X-Frame-Options"] = "DENY"
    if not request.path.startswith("/static/"):
        resp.headers["Cache-Control"] = "no-store"


@functools.cache
def _nobody_hash() -> str:
    """What an unknown user name is checked against (a password nobody knows); made on the
    first login attempt, not when the module loads."""
    return hash_password(secrets.token_urlsafe(24))


# The articles rules cite, in the order of the Measures (the article filter's choices).
ARTICLES = sorted(
    {rule.article.ref for rule in CATALOG},
    key=lambda ref: [int(n) for n in re.findall(r"\d+", ref)],
)


class Console:
    def __init__(
        self,
        url: ClickHouseUrl,
        accounts_file: Path,
        providers_file: Path,
        access_log: AccessLog,
        secure_cookies: bool = False,
    ) -> None:
        self._url = url
        self._accounts_file = accounts_file
        self._registry: RegistrySource
        try:
            self._registry = RegistryWatcher(providers_file)
        except RegistryError as exc:
            log.warning("provider registry unreadable, names and sectors unknown: %s", exc)
            self._registry = ProviderRegistry([])
        self._accounts = Accounts.load(accounts_file)
        self._accounts_stamp = self._stamp()
        self.access_log = access_log
        self._sessions = Sessions()
        self._secure = secure_cookies

    # -- plumbing -------------------------------------------------------------------------------

    async def _query(self, request: web.Request, fn: Callable[[Oversight], Any]) -> Any:
        """``fn``'s answer, as the request's account may see it (its authority's confidential
        cases included, Art. 19 ¶2)."""
        account, _ = self._session(request) or (None, "")
        authority = account.authority if account is not None else ""

        def run() -> Any:
            # read-only sessions: the console cannot write even when given a writer's URL
            ex = ServerExecutor(self._url, read_only=True)
            try:
                return fn(Oversight(ex, authority))
            finally:
                ex.close()

        return await asyncio.to_thread(run)

    def _lang(self, request: web.Request) -> str:
        lang = request.query.get("lang") or request.cookies.get(LANG_COOKIE, "zh")
        return lang if lang in LANGS else "zh"

    def _session(self, request: web.Request) -> tuple[Account, str] | None:
        """The account a request acts as, and its session's CSRF token: a logged-in browser's,
        or an API reader's (``_api_reader``), who has no CSRF token and so cannot post."""
        s = self._sessions.get(request.cookies.get(SESSION_COOKIE), time.time())
        if s is None:
            reader = self._api_reader(request)
            return (reader, "") if reader is not None else None
        account = self._accounts.get(s.username)
        return (account, s.csrf) if account is not None else None

    def _stamp(self) -> tuple[int, int]:
        try:
            st = self._accounts_file.stat()
        except OSError:
            return (0, 0)
        return (st.st_mtime_ns, st.st_size)

    def _fresh_accounts(self) -> Accounts:
        """The accounts, read again from their file when it changed since last read (an account
        added or reset, a token issued): a login and an API read see them at once."""
        stamp = self._stamp()
        if stamp != self._accounts_stamp:
            self._accounts, self._accounts_stamp = Accounts.load(self._accounts_file), stamp
        return self._accounts

    def _api_reader(self, request: web.Request) -> Account | None:
        """A GET of /api/ with an account's API token (``Authorization: Bearer …``, issued by
        ``jianguan regulators token``): it reads as that account, in its scope, logged. The
        accounts file is read again when it changed, so a token issued or replaced takes
        effect at once. Found once per request (a request asks who it is several times)."""
        if _READER not in request:
            request[_READER] = self._token_account(request)
        reader: Account | None = request[_READER]
        return reader

    def _token_account(self, request: web.Request) -> Account | None:
        header = request.headers.get("Authorization", "")
        if request.method != "GET" or not request.path.startswith("/api/"):
            return None
        if not header.startswith("Bearer "):
            return None
        account = self._fresh_accounts().by_token(header.removeprefix("Bearer ").strip())
        if account is None:
            log.warning("console API read with an unknown token from %s", request.remote)
        return account

    def _ctx(self, request: web.Request) -> Ctx:
        account, csrf = self._session(request) or (None, "")
        assert account is not None
        return Ctx(
            self._lang(request), account.username, account.role, csrf, request.path,
            dict(request.query),
        )  # fmt: skip

    def _html(self, request: web.Request, body: str, status: int = 200) -> web.Response:
        resp = web.Response(text=body, content_type="text/html", charset="utf-8", status=status)
        if "lang" in request.query and request.query["lang"] in LANGS:
            resp.set_cookie(LANG_COOKIE, request.query["lang"], samesite="Strict", httponly=True)
        return resp

    def _download(
        self, request: web.Request, export: pages.Export, attached: bool = True
    ) -> web.Response:
        """An exported list as a file to save (or, for the API, as the answer), the export in
        the access log."""
        self._log_access(request, "export-list", request.path_qs, "")
        disposition = "attachment" if attached else "inline"
        return web.Response(
            body=export.body,
            content_type=export.content_type,
            charset="utf-8",
            headers={"Content-Disposition": f'{disposition}; filename="{export.filename}"'},
        )

    def _log_access(self, request: web.Request, action: str, target: str, provider: str) -> None:
        account, _ = self._session(request) or (None, "")
        assert account is not None
        self.access_log.append(
            Access(time.time(), account.username, account.role, action, target, provider,
                   request.remote or "")
        )  # fmt: skip

    @web.middleware
    async def _security(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            self._admit(request)
            if request.method == "POST" and request.path != "/login":
                form = await request.post()
                session = self._session(request)
                if session is None or not csrf_ok(session[1], str(form.get("csrf", ""))):
                    raise web.HTTPForbidden(text="missing or wrong CSRF token")
            resp = await handler(request)
        except web.HTTPNotFound as exc:  # no such page: said in the console's own style
            page = self._message(request, 404)
            if page is None:
                _harden(exc, request)
                raise
            resp = page
        except web.HTTPException as exc:  # redirects and error answers get the headers too
            _harden(exc, request)
            raise
        except Exception:
            log.exception("console error on %s", request.path)
            resp = self._message(request, 500) or web.Response(
                status=500, text="internal error (logged)"
            )
        _harden(resp, request)
        return resp

    def _message(self, request: web.Request, status: int) -> web.Response | None:
        """The console's page for ``status``, for a logged-in viewer of an HTML page."""
        if request.path.startswith(("/api/", "/static/")) or self._session(request) is None:
            return None
        try:
            return self._html(request, pages.message_page(self._ctx(request), status), status)
        except Exception:  # the error page must not fail in turn
            log.exception("console error page for %s", request.path)
            return None

    def _admit(self, request: web.Request) -> None:
        """Only the login page, health and static files without a session."""
        open_paths = request.path in ("/login", "/healthz", "/favicon.ico") or (
            request.path.startswith("/static/")
        )
        if not open_paths and self._session(request) is None:
            if request.path.startswith("/api/"):
                raise web.HTTPUnauthorized(text="log in first")
            raise web.HTTPFound("/login?next=" + quote(request.path_qs, safe=""))

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._security])
        r = app.router
        r.add_get("/healthz", self.healthz)
        r.add_get("/login", self.login_form)
        r.add_post("/login", self.login)
        r.add_post("/logout", self.logout)
        r.add_get("/", self.overview)
        r.add_get("/api/overview", self.api_overview)
        for page in pages.PAGE_LISTS:
            r.add_get(f"/{page}", self.list_page)
            r.add_get(f"/api/{page}", self.api_list)
        r.add_get("/api/providers", self.api_providers)
        r.add_get("/offshore", self.offshore)
        # Ids may hold "/" (quoted in links as %2F): match the rest of the path, and the
        # export route before the case route that would swallow it.
        r.add_get("/alerts/{alert_id:.+}", self.alert)
        r.add_get("/cases/{case_id:.+}/export", self.export)
        r.add_get("/cases/{case_id:.+}", self.case)
        r.add_get("/providers", self.providers)
        r.add_get("/providers/{provider}", self.provider)
        r.add_get("/access-log", self.access_log_page)
        r.add_get("/law", self.law)
        r.add_get("/static/{name}", self.static)
        r.add_get("/favicon.ico", self.no_favicon)
        return app

    # -- login ------------------------------------------------------------------------------------

    async def no_favicon(self, request: web.Request) -> web.Response:
        raise web.HTTPNotFound()

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def login_form(self, request: web.Request, error: str = "") -> web.Response:
        # Keep the token a browser already holds: another tab (or a favicon fetch) must not
        # invalidate the form it shows.
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
        next_url = request.query.get("next", "/")
        message = pages.LOGIN_ERRORS.get(error, "")
        resp = self._html(request, pages.login_page(self._lang(request), token, message, next_url))
        resp.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", secure=self._secure
        )
        return resp

    async def login(self, request: web.Request) -> web.Response:
        form = await request.post()
        if not csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE, ""), str(form.get("csrf", ""))):
            raise web.HTTPForbidden(text="missing or wrong CSRF token")
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        now = time.time()
        address = request.remote or ""
        if self._sessions.locked_out(address, username, now):
            return await self.login_form(request, "locked")
        account = (await asyncio.to_thread(self._fresh_accounts)).get(username)
        # An unknown name costs the same scrypt as a known one: the answer's timing tells nothing.
        stored = account.password_hash if account is not None else _nobody_hash()
        matches = await asyncio.to_thread(check_password, password, stored)
        if account is None or not matches:
            self._sessions.failed(address, username, now)
            log.warning("failed console login for %r from %s", username, address)
            return await self.login_form(request, "bad_login")
        self._sessions.succeeded(address, username)
        token, _ = self._sessions.open(username, now)
        resp = web.HTTPFound(local_redirect(str(form.get("next", "/"))))
        resp.set_cookie(
            SESSION_COOKIE, token, httponly=True, samesite="Strict", secure=self._secure
        )
        resp.del_cookie(LOGIN_CSRF_COOKIE)
        raise resp

    async def logout(self, request: web.Request) -> web.Response:
        self._sessions.close(request.cookies.get(SESSION_COOKIE))
        resp = web.HTTPFound("/login")
        resp.del_cookie(SESSION_COOKIE)
        raise resp

    # -- pages -----------------------------------------------------------------------------------

    def _registered(self) -> list[Provider]:
        """The registered providers, as the registry file is now (``RegistryWatcher``)."""
        return self._registry.current().providers

    def _sector_of(self) -> dict[str, str]:
        """Each registered provider's sector."""
        return {p.id: p.sector for p in self._registered()}

    def _list_request(
        self, request: web.Request, q: Oversight, scope: Scope, statuses: bool = True
    ) -> pages.ListRequest:
        """The filters a list page's URL sets, and the choices its filters offer."""
        f, errors = lists.filters_of(request.query, time.time())
        choices = self._choices(request, q, scope, statuses)
        return pages.ListRequest(f, request.query, tuple(errors), choices)

    def _choices(
        self, request: web.Request, q: Oversight, scope: Scope, statuses: bool
    ) -> dict[str, list[tuple[str, str]]]:
        """What a list's filters offer the viewer (two queries: only for a page shown)."""
        lang = self._lang(request)
        names = {p.id: p.name for p in self._registered()}
        visible = sorted(
            set(q.providers(scope)) | {p for p in names if scope is None or p in scope}
        )
        choices = {
            "provider": [(p, f"{names[p]} ({p})" if names.get(p) else p) for p in visible],
            "service": [(svc, svc) for svc in q.services(scope)],
            "article": [(ref, formats.article(ref, lang)) for ref in ARTICLES],
            "severity": [(x, translate(x, lang)) for x in SEVERITIES],
        }
        if statuses:
            choices["status"] = [(x, translate(STATUS_NAMES[x], lang)) for x in STATUSES]
        return choices

    def _scope(self, request: web.Request) -> frozenset[str] | None:
        account, _ = self._session(request) or (None, "")
        assert account is not None
        return account.scope(self._sector_of())

    def _may_see(self, request: web.Request, provider: str) -> bool:
        account, _ = self._session(request) or (None, "")
        if account is None:
            return False
        scope = account.scope(self._sector_of())
        return scope is None or provider in scope

    async def overview(self, request: web.Request) -> web.Response:
        scope, now, ctx = self._scope(request), int(time.time()), self._ctx(request)

        def load(q: Oversight) -> tuple[dict[str, Any], pages.ListRequest]:
            lr = self._list_request(request, q, scope, statuses=False)
            return pages.overview_data(q, scope, lr.filters, now, ctx.lang), lr

        data, lr = await self._query(request, load)
        status = 400 if lr.errors else 200
        return self._html(request, pages.overview(ctx, data, lr), status)

    async def api_overview(self, request: web.Request) -> web.Response:
        scope, now = self._scope(request), int(time.time())
        f, _ = lists.filters_of(request.query, now)
        lang = self._lang(request)
        data = await self._query(request, lambda q: pages.overview_data(q, scope, f, now, lang))
        return web.json_response(data, dumps=json.dumps)

    async def list_page(self, request: web.Request) -> web.StreamResponse:
        """Cases, alerts and the article pages: lists a page at a time, or a whole filtered
        list exported (``format=csv|json&list=…``, logged in the access log)."""
        page = request.path.strip("/")
        scope, now, ctx = self._scope(request), int(time.time()), self._ctx(request)

        def load(q: Oversight) -> tuple[str | pages.Export | None, pages.ListRequest]:
            f, errors = lists.filters_of(request.query, time.time())
            lr = pages.ListRequest(f, request.query, tuple(errors))
            if "format" in request.query and not lr.errors:
                return pages.export(ctx, page, q, scope, lr, now), lr
            lr = dataclasses.replace(lr, choices=self._choices(request, q, scope, True))
            return pages.list_page(ctx, page, q, scope, lr, now), lr

        answer, lr = await self._query(request, load)
        if isinstance(answer, pages.Export):
            return self._download(request, answer)
        if answer is None:
            return self._html(request, pages.message_page(ctx, 404), 404)
        return self._html(request, answer, 400 if lr.errors else 200)

    async def api_list(self, request: web.Request) -> web.Response:
        """A page's list as JSON (``list``: which, by default its first; the page's filters,
        sort and ``limit`` up to the export limit), for the API and Grafana; logged."""
        page = request.path.removeprefix("/api/")
        scope, now, ctx = self._scope(request), int(time.time()), self._ctx(request)
        query = {"list": pages.PAGE_LISTS[page][0][0], **request.query, "format": "json"}
        f, errors = lists.filters_of(query, time.time())
        if errors:
            said = [lists.error_message(e, "en") for e in errors]
            raise web.HTTPBadRequest(
                text=json.dumps({"errors": said}), content_type="application/json"
            )
        lr = pages.ListRequest(f, query, ())
        answer = await self._query(request, lambda q: pages.export(ctx, page, q, scope, lr, now))
        if answer is None:
            raise web.HTTPNotFound(text=f"no list {query['list']!r} on {page}")
        return self._download(request, answer, attached=False)

    async def api_providers(self, request: web.Request) -> web.Response:
        """The provider index as JSON, in the reader's scope; logged."""
        ctx, now = self._ctx(request), int(time.time())
        rows = await self._provider_rows(request, now)
        answer = pages.export_providers(ctx, rows, "json", now)
        assert answer is not None
        return self._download(request, answer, attached=False)

    async def law(self, request: web.Request) -> web.Response:
        return self._html(request, pages.law_page(self._ctx(request)))

    async def offshore(self, request: web.Request) -> web.Response:
        ctx = self._ctx(request)
        if ctx.role == "viewer":  # Art. 20 is the CAC's: not a department's scope
            return self._html(request, pages.message_page(ctx, 403), 403)
        return self._html(
            request, await self._query(request, lambda q: pages.offshore_page(ctx, q))
        )

    async def _provider_rows(self, request: web.Request, now: int) -> list[pages.ProviderRow]:
        """The provider index's rows in the viewer's scope, in the ``sort`` it asks for."""
        scope = self._scope(request)
        registered = {p.id: (p.name, p.sector) for p in self._registered()}
        sort = request.query.get("sort", "provider")
        rows: list[pages.ProviderRow] = await self._query(
            request, lambda q: pages.provider_rows(q, scope, registered, sort, now)
        )
        return rows

    async def providers(self, request: web.Request) -> web.Response:
        """The provider index (or, with ``format=csv|json``, its export)."""
        ctx, now = self._ctx(request), int(time.time())
        sort = request.query.get("sort", "provider")
        rows = await self._provider_rows(request, now)
        if "format" in request.query:
            answer = pages.export_providers(ctx, rows, request.query["format"], now)
            if answer is None:
                return self._html(request, pages.message_page(ctx, 404), 404)
            return self._download(request, answer)
        return self._html(request, pages.providers_page(ctx, rows, sort, now))

    async def provider(self, request: web.Request) -> web.Response:
        ctx, provider = self._ctx(request), request.match_info["provider"]
        if not self._may_see(request, provider):
            return self._html(request, pages.message_page(ctx, 403), 403)
        now = int(time.time())
        return self._html(
            request,
            await self._query(request, lambda q: pages.provider_page(ctx, q, provider, now)),
        )

    def _confidential(self, request: web.Request, asked: str, case_id: str) -> web.Response | None:
        """The answer to a case or alert (``asked``) of another authority's inspection (Art. 19
        ¶2): as if there were no such thing, and logged as refused; None when the request's
        account may see it."""
        account, _ = self._session(request) or (None, "")
        if visible_to(account.authority if account is not None else "", case_id):
            return None
        self._log_access(request, "refused", asked, _provider_of(case_id))
        return self._html(request, pages.message_page(self._ctx(request), 404), 404)

    async def _evidence(self, request: web.Request) -> evidence.CaseEvidence | web.Response:
        ctx, case_id = self._ctx(request), request.match_info["case_id"]
        refused = self._confidential(request, case_id, case_id)
        if refused is not None:
            return refused

        def load(q: Oversight) -> evidence.CaseEvidence | None:
            facts = q.case(case_id)
            if not facts:
                return None
            provider = facts[0].provider_id
            if not self._may_see(request, provider):
                return evidence.build(case_id, facts, [])  # checked below; no events read
            ids = sorted({f.event_id for f in facts if f.event_id})
            return evidence.build(case_id, facts, q.events(provider, ids))

        ev: evidence.CaseEvidence | None = await self._query(request, load)
        if ev is None:
            return self._html(request, pages.message_page(ctx, 404), 404)
        if not self._may_see(request, ev.provider_id):
            # Answered as if there were no such case: a scoped viewer learns nothing of other
            # providers' case ids. The refusal is still in the access log.
            self._log_access(request, "refused", case_id, ev.provider_id)
            return self._html(request, pages.message_page(ctx, 404), 404)
        return ev

    async def case(self, request: web.Request) -> web.Response:
        ev = await self._evidence(request)
        if isinstance(ev, web.Response):
            return ev
        self._log_access(request, "view-case", ev.case_id, ev.provider_id)
        return self._html(request, pages.case_page(self._ctx(request), ev))

    async def export(self, request: web.Request) -> web.Response:
        ev = await self._evidence(request)
        if isinstance(ev, web.Response):
            return ev
        ctx = self._ctx(request)
        self._log_access(request, "export-case", ev.case_id, ev.provider_id)
        data = evidence.bundle(ev, ctx.username, int(time.time()))
        name = "evidence-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in ev.case_id)
        return web.Response(
            body=data,
            content_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}.zip"'},
        )

    async def alert(self, request: web.Request) -> web.Response:
        ctx, alert_id = self._ctx(request), request.match_info["alert_id"]
        refused = self._confidential(request, alert_id, of_fact_id(alert_id))
        if refused is not None:
            return refused
        detail: AlertDetail | None = await self._query(request, lambda q: q.alert(alert_id))
        if detail is None:
            return self._html(request, pages.message_page(ctx, 404), 404)
        provider = detail.alert.provider_id
        if not self._may_see(request, provider):
            self._log_access(request, "refused", alert_id, provider)  # as for cases: no such alert
            return self._html(request, pages.message_page(ctx, 404), 404)
        events = await self._query(request, lambda q: q.events(provider, list(detail.evidence)))
        decoded = [
            {"event_id": x.event_id, "kind": evidence.EVENT_KINDS.get(x.kind, str(x.kind)),
             "payload": evidence.decode_event(x.payload)}
            for x in events
        ]  # fmt: skip
        self._log_access(request, "view-alert", alert_id, provider)
        return self._html(request, pages.alert_page(ctx, detail, decoded))

    async def access_log_page(self, request: web.Request) -> web.Response:
        ctx = self._ctx(request)
        if ctx.role != "admin":
            return self._html(request, pages.message_page(ctx, 403), 403)
        entries = await asyncio.to_thread(self.access_log.read)
        broken = await asyncio.to_thread(self.access_log.verify)
        return self._html(request, pages.access_log_page(ctx, entries, broken))

    async def static(self, request: web.Request) -> web.StreamResponse:
        item = STATIC.get(request.match_info["name"])
        if item is None or not item[0].exists():
            raise web.HTTPNotFound()
        path, kind = item
        return web.Response(body=path.read_bytes(), content_type=kind)


async def serve(console: Console, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(console.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


def _provider_of(case_id: str) -> str:
    """The provider a case id names (``<rule>:<provider>:<subject>``)."""
    parts = case_id.split(":", 2)
    return parts[1] if len(parts) > 1 else ""
