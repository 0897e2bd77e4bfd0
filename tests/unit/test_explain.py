"""Every decision explains itself: a case's recorded parameters with unit, meaning and source."""

from __future__ import annotations

from jianguan.domain.calendar import WorkingCalendar
from jianguan.domain.rules.catalog import CATALOG, CONFIG, CONFIG_ZH
from jianguan.domain.rules.explain import explain
from jianguan.domain.rules.sla import DAY_COUNT, WORKING_DAY_COUNT


def test_every_parameter_has_a_unit_meaning_and_source_in_both_languages() -> None:
    for rule in CATALOG:
        for p in rule.params:
            assert p.description, (rule.id, p.name)
            assert p.description_zh, (rule.id, p.name)
            assert p.unit_zh, (rule.id, p.name)
            # a source other than configuration names its norm in both languages
            assert (p.source == CONFIG) == (p.source_zh == CONFIG_ZH), (rule.id, p.name)


def test_a_configured_value_is_told_apart_from_the_default() -> None:
    (shown,) = explain("ART14-ILLEGAL-CONTENT", [("report_hours", "2")])
    assert (shown.value, shown.default, shown.configured) == ("2", "24", True)
    (default,) = explain("ART14-ILLEGAL-CONTENT", [("report_hours", "24")])
    assert default.configured is False


def test_a_complaint_deadline_says_where_it_was_published_and_how_it_was_counted() -> None:
    calendar = WorkingCalendar()
    recorded = [
        ("acknowledge_days", "2"), ("deadline_days", "15"), ("day_count", WORKING_DAY_COUNT),
        ("calendar", calendar.digest), ("resolve_days", "3"),
        ("resolve_days_source", "registration reg-1"), ("resolve_days_unit", "working"),
    ]  # fmt: skip
    by_name = {x.name: x for x in explain("ART15-COMPLAINT", recorded)}
    assert [x.name for x in explain("ART15-COMPLAINT", recorded)] == [n for n, _ in recorded]
    days = by_name["resolve_days"]
    assert (days.unit, days.unit_zh) == ("working days", "工作日")
    assert days.source == "published by the service in registration reg-1 (Art. 15)"
    assert days.source_zh == "服务在备案登记 reg-1 中公布（第十五条）"
    assert by_name["resolve_days_unit"].value_zh == "工作日"
    assert by_name["day_count"].value_zh.startswith("以工作日计")
    assert by_name["calendar"].source.startswith("configuration")
    calendar_days = {x.name: x for x in explain("ART15-COMPLAINT", [("day_count", DAY_COUNT)])}
    assert "《民法典》第二百零一条" in calendar_days["day_count"].value_zh
    (default,) = explain("ART15-COMPLAINT", [("resolve_days_source", "default")])
    assert default.value_zh.startswith("规则参数 deadline_days")


def test_an_unknown_name_keeps_its_value() -> None:
    (x,) = explain("ART99-NONE", [("mystery", "7")])
    assert (x.value, x.meaning, x.source) == ("7", "", "")
