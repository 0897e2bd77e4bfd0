"""What a list's URL asks for, what a list exports, and how values are shown to people."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile

import pytest

from jianguan.console import formats, lists
from jianguan.console.evidence import build, bundle
from jianguan.store.oversight import CaseRow, Window

NOW = 1_790_000_000


def test_filters_come_from_the_url_and_bad_ones_are_named() -> None:
    f, errors = lists.filters_of(
        {"provider": "acme-ai", "status": "overdue", "range": "7d", "since": "2026-09-01",
         "q": " u_bad "},
        NOW,
    )  # fmt: skip
    assert errors == []
    assert (f.provider, f.status, f.search) == ("acme-ai", "overdue", " u_bad ")
    assert f.after_s == NOW - 7 * 86400
    assert f.since == dt.date(2026, 9, 1)
    f, errors = lists.filters_of(
        {"since": "2026-13-45", "status": "lost", "range": "1y", "until": "2026-01-01"}, NOW
    )
    assert sorted(errors) == ["range:1y", "since:2026-13-45", "status:lost"]
    assert (f.since, f.status, f.after_s) == (None, "", None)
    _, errors = lists.filters_of({"since": "2026-02-01", "until": "2026-01-01"}, NOW)
    assert errors == ["until:2026-01-01"]  # the end before the start
    assert "2026-13-45" in lists.error_message("since:2026-13-45", "en")
    assert lists.error_message("since:2026-13-45", "zh").startswith("日期无效")


@pytest.mark.parametrize(
    ("query", "window"),
    [
        ({}, Window("", 0, 50)),
        ({"page": "3", "size": "25", "sort": "-opened"}, Window("-opened", 50, 25)),
        ({"page": "0", "size": "7"}, Window("", 0, 50)),  # no page 0, no size 7
        ({"page": "x", "size": "y"}, Window("", 0, 50)),
    ],
)
def test_which_page_the_url_asks_for(query: dict[str, str], window: Window) -> None:
    assert lists.window_of(query) == window


def test_a_second_list_on_a_page_has_its_own_parameters() -> None:
    assert lists.window_of({"a_page": "2", "page": "5"}, "a_") == Window("", 50, 50)


def _case(closed: bool) -> CaseRow:
    return CaseRow(
        "acme-ai", "ART14-X:acme-ai:h", "ART14-X", "Art. 14 ¶1", "critical", "svc", "h", NOW,
        1, closed,
    )  # fmt: skip


def test_csv_exports_open_in_spreadsheets_and_read_like_the_page() -> None:
    fields = ["provider_id", "case_id", "severity", "opened_at", "closed"]
    body = lists.export_csv([_case(True), _case(False)], fields, "zh")
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["服务提供者", "案件", "严重程度", "立案时间", "已结案"]
    assert rows[1] == ["acme-ai", "ART14-X:acme-ai:h", "严重", "2026-09-21 22:13:20", "是"]
    assert rows[2][-1] == "否"
    english = lists.export_csv([_case(True)], fields, "en").decode("utf-8-sig")
    assert english.splitlines()[0] == "Provider,Case,Severity,Opened,Closed"


def test_json_exports_name_every_field_and_give_both_times() -> None:
    from jianguan.store.oversight import Filters

    doc = json.loads(lists.export_json([_case(False)], 7, Filters(status="open")))
    assert (doc["total"], doc["exported"], doc["filters"]) == (7, 1, {"status": "open"})
    row = doc["rows"][0]
    assert row["opened_at"] == NOW
    assert row["opened_at_beijing"] == "2026-09-21 22:13:20"
    assert row["closed"] is False


def test_the_evidence_csv_has_a_bom_and_beijing_times() -> None:
    from tests.unit.test_console import _facts

    facts, events = _facts()
    data = bundle(build("ART14-ILLEGAL-CONTENT:acme-ai:hit-2", facts, events), "li", 2000)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        text = z.read("events.csv")
    assert text.startswith(b"\xef\xbb\xbf")
    header, first = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))[:2]
    assert header[4] == "occurred_at (Beijing time)"
    assert first[4] == "1970-01-01 08:01:40"  # 100 s after the epoch, in Beijing
    assert first[6] == "100"


@pytest.mark.parametrize(
    ("seconds", "en", "zh"),
    [
        (0.7999999999999998, "0.8 s", "0.8秒"),
        (731700, "8 d 11 h", "8天11小时"),
        (90, "1 min 30 s", "1分30秒"),
        (3600, "1 h", "1小时"),
        (None, "—", "—"),
    ],
)
def test_durations_read_like_a_person_would_say_them(
    seconds: float | None, en: str, zh: str
) -> None:
    assert formats.duration(seconds, "en") == en
    assert formats.duration(seconds, "zh") == zh


def test_numbers_shares_and_citations() -> None:
    assert formats.number(5906) == "5,906"
    assert formats.number(0.7999999999999998, 1) == "0.8"
    assert formats.number(float("nan")) == "—"
    assert formats.percent(0.0123) == "1.23%"
    assert formats.percent(0.5) == "50%"
    assert formats.article("Art. 14 ¶1", "zh") == "第十四条第一款"
    assert formats.article("Art. 4 ¶1 (2)", "zh") == "第四条第一款第（二）项"
    assert formats.article("Art. 14 ¶1", "en") == "Art. 14 ¶1"
    assert formats.beijing(NOW) == "2026-09-21 22:13:20"


def test_the_alert_trend_has_every_hour_of_the_last_two_days() -> None:
    from jianguan.console.pages import _hourly
    from jianguan.store.oversight import TrendPoint

    now = 1_790_000_000 + 1234  # within an hour
    this_hour = now - now % 3600
    trend = _hourly([TrendPoint(this_hour - 3600, 5), TrendPoint(this_hour, 2)], now)
    assert len(trend) == 48
    assert trend[-1] == [this_hour, 2]
    assert trend[-2] == [this_hour - 3600, 5]
    assert trend[0] == [this_hour - 47 * 3600, 0]
    assert sum(n for _, n in trend) == 7


def test_a_missed_deadline_alert_is_said_in_the_viewers_language() -> None:
    from jianguan.console.summaries import shown_summary
    from jianguan.store.oversight import AlertRow

    case = "ART14-ILLEGAL-CONTENT:acme-ai:hit:2"  # a subject with a colon in it
    row = AlertRow(
        "acme-ai", f"{case}/DEADLINE_MISSED/report", "ART14-ILLEGAL-CONTENT", "Art. 14 ¶1",
        "critical", "svc", case, "Illegal output: 'report' for hit:2 was not done …", NOW,
    )  # fmt: skip
    zh = shown_summary(row, "zh")
    assert (
        zh == "违法输出：在时限内处置、整改并报告：hit:2 的「报告」未在期限内完成（第十四条第一款）"
    )
    assert shown_summary(row, "en") == row.summary  # as it was raised
    check = AlertRow(
        "acme-ai", "ART17-CHANGE:acme-ai:svc:m2", "ART17-CHANGE", "Art. 17", "high", "svc", "",
        "model m2 served since …", NOW,
    )  # fmt: skip
    assert shown_summary(check, "zh") == check.summary  # a store check's words, unchanged
