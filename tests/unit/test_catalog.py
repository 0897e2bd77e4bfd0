"""The catalog quotes the law as written and every rule is complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jianguan.domain.rules.catalog import CATALOG, CONFIG

_REGULATION = Path(__file__).resolve().parents[3] / "shared" / "regulation" / "interim-measures.txt"


def _law() -> str:
    text = _REGULATION.read_text(encoding="utf-8").split("|")[1]
    # the converter left pinyin after some characters: X(pinyin) -> X
    return re.sub(r"\(([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+)\)", "", text)


@pytest.mark.skipif(not _REGULATION.exists(), reason="shared/regulation is not beside the checkout")
@pytest.mark.parametrize("rule", CATALOG, ids=lambda r: r.id)
def test_each_quote_is_the_text_of_the_measures(rule) -> None:  # type: ignore[no-untyped-def]
    assert rule.article.quote_zh in _law()


@pytest.mark.parametrize("rule", CATALOG, ids=lambda r: r.id)
def test_each_rule_is_complete(rule) -> None:  # type: ignore[no-untyped-def]
    assert re.fullmatch(r"ART\d+-[A-Z-]+", rule.id)
    assert rule.article.ref.startswith("Art.")
    assert rule.article.gloss_en
    assert rule.severity in {"critical", "high", "medium", "low"}
    assert rule.reads
    assert rule.emits
    for p in rule.params:
        assert p.default > 0
        assert p.description
        assert p.source == CONFIG or p.source  # every default says where it comes from
