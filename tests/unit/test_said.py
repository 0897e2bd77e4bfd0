"""A finding in phrases: said in English as stored, in Chinese by the console, round-tripped."""

from __future__ import annotations

from functools import partial

from jianguan.console.i18n import translate
from jianguan.console.summaries import shown_summary
from jianguan.domain.calendar import beijing_time
from jianguan.domain.said import decode, encode, phrase, say
from jianguan.store import checks
from jianguan.store.oversight import AlertRow

HOUR = 1_796_191_200  # 2026-12-02 14:00 Beijing time


def _labeling() -> tuple:  # type: ignore[type-arg]
    return checks._labeling_said(
        ["7", "10", str(HOUR), "2 no explicit label|1 no valid ProduceID", "1", "acme-producer"]
    )


def test_a_finding_reads_as_its_english_summary_did() -> None:
    assert say(_labeling()) == (
        "labeled 7 of 10 outputs that need labels in the hour from 2026-12-02 14:00:00 Beijing"
        " time; unlabeled: 1 no valid ProduceID; unlabeled: 2 no explicit label;"
        " 1 labeled with a ContentProducer other than the registered acme-producer"
    )
    assert beijing_time(HOUR) == "2026-12-02 14:00:00"


def test_a_finding_is_said_in_chinese_words_and_all() -> None:
    zh = say(_labeling(), partial(translate, lang="zh"), "；")
    assert zh == (
        "北京时间2026-12-02 14:00:00起的一小时内，需要标识的 10 条输出中 7 条已标识；"
        "未标识：1 条无有效的内容制作编号（ProduceID）；未标识：2 条无显式标识；"
        "1 条标注的内容制作者（ContentProducer）不是已登记的 acme-producer"
    )


def test_phrases_round_trip_as_stored() -> None:
    said = (*_labeling(), phrase(checks.UNREPORTED_CITED, kind="incident_report", event_id="e'1",
                                 ref='"r"'))  # fmt: skip
    assert decode(encode(said)) == said
    assert encode(()) == ""
    assert decode("") == ()


def test_the_console_says_a_store_checks_alert_from_its_phrases() -> None:
    said = (phrase(checks.UNREPORTED_CITED, kind="incident_report", event_id="e1", ref="m9"),)
    row = AlertRow(
        "acme", "ART14-ORPHAN-REFERENCE:acme:svc:m9", "ART14-ORPHAN-REFERENCE", "Art. 14 ¶1",
        "medium", "svc", "", "…as raised, in English", HOUR, said,
    )  # fmt: skip
    assert shown_summary(row, "en") == row.summary
    zh = shown_summary(row, "zh")
    assert zh.endswith("事件报告事件 e1 引用的 m9 从未由提供者报告（第十四条第一款）")
    assert "：" in zh
    assert "Art." not in zh
