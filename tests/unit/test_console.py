"""The console's pure parts: accounts, sessions, the access log's chain, the evidence bundle,
escaping, and the scope every query carries."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from jianguan.accounts.regulators import (
    AccountError,
    Accounts,
    add_account,
    check_password,
    hash_password,
)
from jianguan.console.access_log import Access, AccessLog
from jianguan.console.context import Ctx
from jianguan.console.evidence import build, bundle
from jianguan.console.sessions import Sessions, csrf_ok, local_redirect
from jianguan.contracts import pb
from jianguan.store.oversight import CaseFactRow, Filters, StoredEvent, scope_sql


def test_passwords_are_salted_scrypt_hashes() -> None:
    h1, h2 = hash_password("s3cret"), hash_password("s3cret")
    assert h1 != h2 and h1.startswith("scrypt$")  # noqa: PT018
    assert check_password("s3cret", h1)
    assert not check_password("S3cret", h1)
    assert not check_password("s3cret", "plain")


def test_accounts_round_trip_and_scope(tmp_path: Path) -> None:
    path = tmp_path / "regulators.toml"
    password = add_account(path, "wang", "viewer", ["acme-ai"], "Wang (edu)")
    add_account(path, "li", "analyst", [], "")
    accounts = Accounts.load(path)
    wang, li = accounts.get("wang"), accounts.get("li")
    assert wang is not None and li is not None  # noqa: PT018
    assert check_password(password, wang.password_hash)
    assert password not in path.read_text()
    sectors = {"acme-ai": "news", "beta-ai": "education", "gamma-ai": "education"}
    assert wang.scope(sectors) == {"acme-ai"}
    assert li.scope(sectors) is None  # every provider
    add_account(path, "zhao", "viewer", [], "Education dept", ["education"])
    zhao = Accounts.load(path).get("zhao")
    assert zhao is not None
    assert zhao.scope(sectors) == {"beta-ai", "gamma-ai"}
    assert zhao.scope({**sectors, "delta-ai": "education"}) == {"beta-ai", "gamma-ai", "delta-ai"}
    add_account(path, "sun", "analyst", [], "CAC Beijing", authority="cac-bj")
    sun = Accounts.load(path).get("sun")
    assert sun is not None and sun.authority == "cac-bj"  # noqa: PT018
    assert Accounts.load(path).get("li").authority == ""  # type: ignore[union-attr]
    path.write_text('[[account]]\nusername = "x"\nrole = "root"\npassword_hash = "h"\n')
    with pytest.raises(AccountError, match="unknown role 'root'"):
        Accounts.load(path)


def test_an_api_token_reads_as_its_account_and_is_kept_only_as_a_digest(tmp_path: Path) -> None:
    from jianguan.accounts.regulators import issue_api_token

    path = tmp_path / "regulators.toml"
    add_account(path, "wang", "viewer", ["acme-ai"], "Wang (edu)")
    add_account(path, "li", "analyst", [], "")
    token = issue_api_token(path, "wang")
    assert token.startswith("jgr_")
    assert len(token) > 40
    assert token not in path.read_text()
    accounts = Accounts.load(path)
    found = accounts.by_token(token)
    assert found is not None
    assert found.username == "wang"
    assert accounts.by_token(token[:-1]) is None
    assert accounts.by_token("") is None  # li has none: no empty token matches
    again = issue_api_token(path, "wang")  # replaces the first
    assert Accounts.load(path).by_token(token) is None
    add_account(path, "wang", "viewer", ["acme-ai"], "Wang (edu)")  # a reset drops it
    assert Accounts.load(path).by_token(again) is None
    with pytest.raises(AccountError, match="no regulator account 'nobody'"):
        issue_api_token(path, "nobody")


def test_sessions_expire_and_logins_are_throttled() -> None:
    s = Sessions(ttl_s=60)
    token, session = s.open("li", now=1000)
    assert s.get(token, 1059) is session
    assert s.get(token, 1061) is None
    assert s.get("forged", 1000) is None
    for _ in range(5):
        s.failed("10.0.0.9", "li", 2000)
    assert s.locked_out("10.0.0.9", "li", 2001)
    assert not s.locked_out("10.0.0.7", "li", 2001)  # nobody locks li out for the others
    assert not s.locked_out("10.0.0.9", "li", 2000 + 301)
    for n in range(20):  # many names from one address
        assert not s.locked_out("10.0.0.8", f"user{n}", 3000)
        s.failed("10.0.0.8", f"user{n}", 3000)
    assert s.locked_out("10.0.0.8", "someone-else", 3001)
    assert not s.locked_out("10.0.0.7", "someone-else", 3001)
    s.failed("10.0.0.6", "li", 4000)
    s.succeeded("10.0.0.6", "li")
    assert not s.locked_out("10.0.0.6", "li", 4001)
    assert csrf_ok("abc", "abc")
    assert not csrf_ok("abc", "abd")
    assert not csrf_ok("abc", None)


def _logged(path: Path, n: int = 3) -> AccessLog:
    log = AccessLog(path)
    for i in range(n):
        log.append(
            Access(1000 + i, "li", "analyst", "view-case", f"case-{i}", "acme-ai", "127.0.0.1")
        )
    return log


def test_the_access_log_is_a_keyed_chain_anchored_outside_the_file(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    log = _logged(path)
    assert log.verify() is None
    assert [x["target"] for x in log.read()] == ["case-2", "case-1", "case-0"]
    assert AccessLog(path).verify() is None  # a reopened log continues it
    key = (tmp_path / "access.log.key").read_text()
    assert key.strip() not in path.read_text()  # the key is never in the log
    assert oct((tmp_path / "access.log.key").stat().st_mode & 0o777) == "0o600"


def test_removing_an_entry_breaks_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    _logged(path)
    lines = path.read_text().splitlines()
    del lines[1]
    path.write_text("\n".join(lines) + "\n")
    assert AccessLog(path).verify() == 1


def test_an_entry_rewritten_with_recomputed_hashes_breaks_the_chain(tmp_path: Path) -> None:
    """Without the key, whoever edits an entry cannot make a MAC that verifies."""
    from jianguan.console.access_log import mac_of

    path = tmp_path / "access.log"
    _logged(path)
    docs = [json.loads(line) for line in path.read_text().splitlines()]
    docs[1]["target"] = "case-innocent"
    guess = b"not-the-key"
    for i in range(1, 3):  # recompute the MACs from the edit on, as an intruder would
        docs[i]["prev"] = docs[i - 1]["mac"]
        docs[i]["mac"] = mac_of(guess, docs[i])
    path.write_text("".join(json.dumps(d, sort_keys=True) + "\n" for d in docs))
    assert AccessLog(path).verify() == 1


def test_a_log_cut_short_or_deleted_shows_as_broken(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    _logged(path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:2]) + "\n")  # the newest entry cut off, then a restart
    assert AccessLog(path).verify() == 2
    path.unlink()
    assert AccessLog(path).verify() == 0


def test_a_corrupt_line_is_shown_as_broken_not_as_an_error(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    _logged(path)
    lines = path.read_text().splitlines()
    lines[2] = "{not json"
    path.write_text("\n".join(lines) + "\n")
    log = AccessLog(path)
    assert log.verify() == 2
    assert log.read()[0]["action"] == "(corrupt line)"


def _facts() -> tuple[list[CaseFactRow], list[StoredEvent]]:
    ev = pb.Event()
    ev.envelope.event_id = "hit-2"
    ev.moderation.stage = pb.bodies_pb2.MODERATION_STAGE_OUTPUT
    rule, art = "ART14-ILLEGAL-CONTENT", "Art. 14 ¶1"
    facts = [
        CaseFactRow(1, rule, art, "critical", "acme-ai", "svc", "hit-2", "", 100, 0, "hit-2",
                    False, (("disposal", 3700), ("report", 86500)),
                    (("disposal_hours", "1"), ("report_hours", "24"))),
        CaseFactRow(2, rule, art, "critical", "acme-ai", "svc", "hit-2", "disposal", 100, 0,
                    "hit-2", False, (), ()),
        CaseFactRow(3, rule, art, "critical", "acme-ai", "svc", "hit-2", "report", 86500,
                    86500, "", False, (), ()),
    ]  # fmt: skip
    events = [StoredEvent("hit-2", "svc", 11, 100, 1, 101, "hit-1", ev.SerializeToString())]
    return facts, events


def test_evidence_has_deadline_statuses_and_a_verifiable_bundle() -> None:
    facts, events = _facts()
    ev = build("ART14-ILLEGAL-CONTENT:acme-ai:hit-2", facts, events)
    assert {d["obligation"]: d["status"] for d in ev.deadlines} == {
        "disposal": "met",
        "report": "overdue",
    }
    assert ev.events[0]["payload"]["moderation"]["stage"] == "MODERATION_STAGE_OUTPUT"
    assert (ev.events[0]["corrects"], ev.events[0]["corrected_by"]) == ("hit-1", "")
    assert "停止生成" in ev.rule_doc()["quote_zh"]
    data = bundle(ev, "li", 2000)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for line in z.read("MANIFEST.sha256").decode().splitlines():
            digest, name = line.split("  ")
            assert hashlib.sha256(z.read(name)).hexdigest() == digest
        doc = json.loads(z.read("case.json"))
    assert doc["exported_by"] == "li"
    assert [(p["name"], p["value"], p["unit"]) for p in doc["parameters"]] == [
        ("disposal_hours", "1", "hours"), ("report_hours", "24", "hours"),
    ]  # fmt: skip
    # each explained in both languages, with where its value comes from
    report = doc["parameters"][1]
    assert report["meaning"] == "report to the competent authority"
    assert report["meaning_zh"] == "向有关主管部门报告的时限"
    assert report["source_zh"] == "配置：本办法未规定具体数值"
    assert report["configured"] is False
    assert doc["rule"]["article"] == "Art. 14 ¶1"


def test_everything_shown_is_escaped() -> None:
    from jianguan.console.pages import access_log_page

    evil = '<script>alert("x")</script>'
    ctx = Ctx("en", evil, "analyst", "tok", "/", {"provider": evil})
    entry = {"at": 1, "username": evil, "role": evil, "action": evil, "target": evil,
             "provider_id": evil}  # fmt: skip
    page = access_log_page(ctx, [entry], None)
    assert "<script>alert" not in page
    assert page.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") >= 5


def test_every_query_carries_the_viewers_scope() -> None:
    params: dict[str, object] = {}
    assert scope_sql(None, params) == ""
    assert scope_sql(frozenset({"b", "a"}), params) == " AND provider_id IN %(scope)s"
    assert params["scope"] == ("a", "b")
    scope_sql(frozenset(), params)
    assert params["scope"] == ("",)  # an empty scope sees nothing, not everything
    p: dict[str, object] = {}
    where = Filters(provider="acme-ai", article="Art. 15").where(p, "opened_at")
    assert where == " AND provider_id = %(f_provider)s AND article = %(f_article)s"
    assert p == {"f_provider": "acme-ai", "f_article": "Art. 15"}
    assert "article" not in Filters(article="Art. 15").where({}, "occurred_at", cases_like=False)


def test_confidential_cases_are_kept_to_their_authority() -> None:
    """Art. 19 ¶2: a viewer of no authority sees no inspection, one of an authority only its own
    (checked against the store in tests/integration/test_console_queries.py)."""
    from jianguan.store.oversight import confidential_sql

    p: dict[str, object] = {}
    assert confidential_sql("", p) == " AND rule_id NOT IN %(c_rules)s"
    assert p == {"c_rules": ("ART19-INSPECTION",)}
    p = {}
    assert "splitByChar(':', case_id)[3] = %(c_authority)s" in confidential_sql("cac-bj", p)
    assert p["c_authority"] == "cac-bj"


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "/\t/evil.example", "/\n/evil.example", "/\\evil.example",
     "/\\/evil.example", "https://evil.example/", "evil.example", "/a\x00b", "/a\x7fb", ""],
)  # fmt: skip
def test_login_never_redirects_off_the_console(target: str) -> None:
    assert local_redirect(target) == "/"


@pytest.mark.parametrize("target", ["/", "/cases/ART14%3Aacme%3Ax", "/incidents?page=2&lang=en"])
def test_login_returns_to_console_paths(target: str) -> None:
    assert local_redirect(target) == target


def test_any_stored_value_renders() -> None:
    """A provider's own absurd timestamp never makes its case page or export fail."""
    from jianguan.console.evidence import decode_event
    from jianguan.console.formats import beijing as cst
    from tests.helpers import generation

    ev = generation("odd-1", 1_790_000_000)
    ev.envelope.occurred_at.seconds = -(2**63)
    ev.generation.output_type = 99  # an enum number the contract does not name
    decoded = decode_event(ev.SerializeToString())
    assert decoded["envelope"]["occurred_at"] == {"seconds": -(2**63), "nanos": 0, "invalid": True}
    assert decoded["envelope"]["event_id"] == "odd-1"
    assert decoded["generation"]["output_type"] == 99
    assert decoded["generation"]["request_model"] == "model-x"
    normal = decode_event(generation("ok-1", 1_790_000_000).SerializeToString())
    assert normal["envelope"]["occurred_at"] == "2026-09-21T14:13:20Z"
    assert cst(-(2**63)) == f"{-(2**63)} (not a date)"
    assert cst(10**20) == f"{10**20} (not a date)"
    assert cst(1_790_000_000) == "2026-09-21 22:13:20"


def test_a_case_page_shows_the_parameters_its_deadlines_were_computed_with() -> None:
    from jianguan.console.pages import case_page

    facts, events = _facts()
    ev = build("ART14-ILLEGAL-CONTENT:acme-ai:hit-2", facts, events)
    for lang, heading in (
        ("en", "Parameters the deadlines were computed with"),
        ("zh", "判定参数"),
    ):
        page = re.sub(r">\s+<", "><", case_page(Ctx(lang, "li", "analyst", "tok", "/", {}), ev))
        assert heading in page
        unit, meaning = (
            ("hours", "report to the competent authority")
            if lang == "en"
            else ("小时", "向有关主管部门报告的时限")
        )
        assert f"<td>report_hours</td><td>24 {unit}</td><td>{meaning}</td>" in page


def test_a_case_page_quotes_its_article_whole_and_links_the_law_page() -> None:
    from jianguan.console.pages import case_page

    facts, events = _facts()
    page = case_page(
        Ctx("zh", "li", "analyst", "tok", "/", {}),
        build("ART14-ILLEGAL-CONTENT:acme-ai:hit-2", facts, events),
    )
    assert '<a href="/law#art-14">第十四条第一款</a>' in page  # the citation, in Chinese
    assert "采取模型优化训练等措施进行整改，并向有关主管部门报告。</p>" in page
    english = case_page(
        Ctx("en", "li", "analyst", "tok", "/", {}),
        build("ART14-ILLEGAL-CONTENT:acme-ai:hit-2", facts, events),
    )
    assert '<a href="/law#art-14">Art. 14 ¶1</a>' in english


def test_the_law_page_shows_every_article_and_the_rules_citing_it() -> None:
    from jianguan.console.pages import law_page

    assert "第十四条 · Art. 14" in law_page(Ctx("en", "li", "viewer", "tok", "/law", {}))
    page = law_page(Ctx("zh", "li", "viewer", "tok", "/law", {}))
    assert page.count('<section class="article" id="art-') == 24
    art14 = page.split('id="art-14"')[1].split("</section>")[0]
    assert "<h3>第十四条</h3>" in art14
    assert art14.count('<p lang="zh">') == 2  # both paragraphs
    assert "ART14-ILLEGAL-CONTENT (Art. 14 ¶1)" in art14
    assert "ART14-USER-ENFORCEMENT (Art. 14 ¶2)" in art14
    art4 = page.split('id="art-4"')[1].split("</section>")[0]
    assert art4.count('class="item"') == 5
    assert "rules" not in page.split('id="art-1"')[1].split("</section>")[0]


def test_an_alert_page_explains_the_parameters_it_was_decided_with() -> None:
    from jianguan.console.pages import alert_page
    from jianguan.store.oversight import AlertDetail, AlertRow

    row = AlertDetail(
        AlertRow(
            "acme-ai", "ART12-LABELING:acme-ai:img:h", "ART12-LABELING", "Art. 12", "medium",
            "img", "", "labeled 9 of 10", 1_790_000_000,
        ),
        ("img-3",),
        (("min_labeled_share", "0.99"),),
    )  # fmt: skip
    en = re.sub(r">\s+<", "><", alert_page(Ctx("en", "li", "analyst", "tok", "/", {}), row, []))
    assert "<td>min_labeled_share</td><td>0.99 share" in en
    assert "(configured; default 0.999)" in en
    assert "configuration: the Measures set no number" in en
    zh = alert_page(Ctx("zh", "li", "analyst", "tok", "/", {}), row, [])
    assert "<td>0.99 比例" in zh
    assert "按提供者、服务和小时计" in zh
