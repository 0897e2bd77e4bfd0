"""The catalog cites the law by place, and quotes it whole from the official text shipped with
the package; every rule is complete."""

from __future__ import annotations

import hashlib
import re
from importlib.resources import files
from pathlib import Path

import pytest

from jianguan.domain import law
from jianguan.domain.law import Citation
from jianguan.domain.rules.catalog import BY_ID, CATALOG, CONFIG, check_overrides

# The official simplified-Chinese text (shared/regulation/interim-measures.zh-Hans.txt), as shipped.
OFFICIAL_SHA256 = "c6ad66bdee0f7283ce1b467800a74ea6c435eb5333d344f089ca28841a804c37"
_SHARED = Path(__file__).resolve().parents[3] / "shared" / "regulation"


def _shipped() -> bytes:
    return files("jianguan.domain.law").joinpath(law.TEXT_FILE).read_bytes()


def test_the_package_ships_the_official_text() -> None:
    assert hashlib.sha256(_shipped()).hexdigest() == OFFICIAL_SHA256
    official = _SHARED / "interim-measures.zh-Hans.txt"
    if official.exists():  # beside a checkout: the shipped copy is that file, byte for byte
        assert official.read_bytes() == _shipped()


def _lines() -> list[str]:
    """The text's lines with the article number and the indent taken off: each is a paragraph's
    opening or an item, as the file marks them (read without the parser)."""
    out = []
    for line in _shipped().decode().splitlines():
        if re.match(r"^第[一二三四五六七八九十]+条 ", line):
            out.append(line.split(" ", 1)[1])
        elif line.startswith("\u3000\u3000"):
            out.append(line[2:])
    return out


@pytest.mark.parametrize("rule", CATALOG, ids=lambda r: r.id)
def test_each_quote_is_whole_paragraphs_of_the_official_text(rule) -> None:  # type: ignore[no-untyped-def]
    lines = _lines()
    for cite in rule.article.cites:
        text = cite.text()
        assert text.endswith("。")
        # it starts where a paragraph starts and runs over whole lines of the file
        start = next(i for i, line in enumerate(lines) if text.startswith(line))
        joined = ""
        for line in lines[start:]:
            joined += line if not joined else ("\n" + line if not line.startswith("（") else line)
            if len(joined.replace("\n", "")) >= len(text.replace("\n", "")):
                break
        assert joined.replace("\n", "") == text.replace("\n", "")
    assert rule.article.ref == " / ".join(c.ref for c in rule.article.cites)


def test_the_measures_parse_into_articles_paragraphs_and_items() -> None:
    m = law.measures()
    assert sorted(m) == list(range(1, 25))
    assert len(m[2].paragraphs) == 3
    assert len(m[4].paragraphs) == 1
    assert len(m[4].paragraphs[0].items) == 5
    assert len(m[14].paragraphs) == 2
    assert (
        m[14].paragraphs[1].text.startswith("提供者发现使用者利用生成式人工智能服务从事违法活动的")
    )
    assert m[14].paragraphs[1].text.endswith("并向有关主管部门报告。")
    assert len(m[22].paragraphs[0].items) == 3
    assert m[24].paragraphs[0].text == "本办法自2023年8月15日起施行。"


def test_citations_name_their_place_in_both_languages() -> None:
    assert Citation(14, 1).ref == "Art. 14 ¶1"
    assert Citation(14, 1).ref_zh == "第十四条第一款"
    assert Citation(4, 1, 2).ref == "Art. 4 ¶1 (2)"
    assert Citation(4, 1, 2).ref_zh == "第四条第一款第（二）项"
    assert Citation(4, 1, 2).text().startswith("（二）在算法设计")
    assert Citation(20).ref_zh == "第二十条"
    assert Citation(24).text() == "本办法自2023年8月15日起施行。"
    assert Citation(21).text().count("\n") == 1  # two paragraphs


@pytest.mark.parametrize(
    ("cite", "error"),
    [
        (Citation(25), KeyError),
        (Citation(14, 3), IndexError),
        (Citation(14, 0), IndexError),
        (Citation(4, 1, 6), IndexError),
        (Citation(4, None, 1), ValueError),
    ],
)
def test_a_citation_of_no_place_fails(cite: Citation, error: type[Exception]) -> None:
    with pytest.raises(error):
        cite.text()


@pytest.mark.parametrize(
    ("text", "n"), [("一", 1), ("九", 9), ("十", 10), ("十四", 14), ("二十", 20), ("二十四", 24)]
)
def test_numerals(text: str, n: int) -> None:
    assert law.numeral(text) == n


@pytest.mark.parametrize(
    "damaged",
    [
        "第一条 甲。\n第三条 乙。",  # an article missing
        "　　乙。",  # a paragraph before any article
        "第一条 甲：\n　　（二）乙；",  # an item missing
        "第一条 甲。\nstray",
    ],
)
def test_a_damaged_text_fails_loudly(damaged: str) -> None:
    with pytest.raises(ValueError, match="line"):
        law.parse(damaged)


@pytest.mark.parametrize("rule", CATALOG, ids=lambda r: r.id)
def test_each_rule_is_complete(rule) -> None:  # type: ignore[no-untyped-def]
    assert re.fullmatch(r"ART\d+-[A-Z-]+", rule.id)
    assert rule.article.ref.startswith("Art.")
    assert rule.article.gloss_en
    assert rule.severity in {"critical", "high", "medium", "low"}
    assert rule.reads
    assert rule.emits
    for p in rule.params:
        assert p.default >= 0
        assert p.description
        assert p.source == CONFIG or p.source  # every default says where it comes from


def test_a_rules_values_are_its_defaults_under_the_overrides() -> None:
    grade = BY_ID["ART16-GRADE"]
    values = grade.values({"max_error_rate": 0.1})
    assert values == {
        "max_error_rate": 0.1,
        "grade_a_error_rate": 0.01,
        "grade_b_missed_deadlines": 3,
        "late_report_hours": 24,
    }
    assert isinstance(values["grade_b_missed_deadlines"], int)  # whole numbers stay whole for SQL


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ART99-NONE": {}}, "no rule 'ART99-NONE'"),
        ({"ART16-GRADE": {"grade_c": 1}}, "ART16-GRADE has no parameter 'grade_c' (it has: "),
        ({"ART16-GRADE": {"max_error_rate": "0.1"}}, "max_error_rate: '0.1' is not a non-negative"),
        ({"ART16-GRADE": {"max_error_rate": -1}}, "max_error_rate: -1 is not a non-negative"),
        ({"ART16-GRADE": {"max_error_rate": True}}, "max_error_rate: True is not"),
        ({"ART16-GRADE": 3}, "ART16-GRADE: expected {parameter: number}"),
        ([], "expected an object"),
    ],
)
def test_an_override_the_catalog_does_not_know_stops_the_start(
    overrides: object, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        check_overrides(overrides)


def test_known_overrides_pass_as_numbers() -> None:
    assert check_overrides({"ART16-GRADE": {"grade_b_missed_deadlines": 5.0}}) == {
        "ART16-GRADE": {"grade_b_missed_deadlines": 5}
    }
