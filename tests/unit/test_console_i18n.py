"""Every string the console shows is in the Chinese catalog: what Babel extracts from the
templates and the console's code, and the stored values the console names (rule titles,
severities, obligations, kinds, statuses, actions, roles)."""

from __future__ import annotations

import re
import string
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from jianguan.accounts.regulators import ROLES
from jianguan.console import i18n
from jianguan.contracts import pb
from jianguan.domain.rules.catalog import CATALOG
from jianguan.store import checks
from tests.scenarios.library import load_all

CONSOLE = Path(i18n.__file__).parent


def _extracted() -> set[str]:
    with (CONSOLE / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = extract_from_dir(
        str(CONSOLE), method_map, options_map, keywords={"_": None, "N_": None}
    )
    return {message for _file, _line, message, _comments, _context in found if message}


def _stored_values() -> set[str]:
    obligations = {
        str(fact[3]) for s in load_all() for fact in s.facts if isinstance(fact, tuple) and fact[3]
    }
    return (
        {r.title for r in CATALOG}
        | {r.severity for r in CATALOG}
        | obligations
        | set(ROLES)
        | set(pb.BODY_KINDS)
        | set(checks.PHRASES)
        | set(checks.WORDS)
    )


ZH = i18n.catalog("zh")


def test_every_string_shown_has_a_chinese_translation() -> None:
    extracted = _extracted()
    assert "Open cases" in extracted  # from a template
    assert "Not permitted" in extracted  # from the console's code (N_)
    missing = sorted((extracted | _stored_values()) - set(ZH))
    assert missing == [], f"untranslated: {missing}"


def test_the_catalog_holds_nothing_the_console_no_longer_shows() -> None:
    stale = sorted(set(ZH) - _extracted() - _stored_values())
    assert stale == [], f"in the catalog, shown nowhere: {stale}"


def test_translations_keep_their_placeholders() -> None:
    fields = string.Formatter()
    for source, translated in ZH.items():
        want = sorted(name for _, name, _, _ in fields.parse(source) if name)
        got = sorted(name for _, name, _, _ in fields.parse(translated) if name)
        assert got == want, (source, translated)


def test_translations_are_simplified_chinese() -> None:
    """A handful of traditional forms that leaked into the console before (the law's raw
    source is traditional): none may appear in a translation."""
    traditional = re.compile("[們處際門務與說總條單會對時間據檢規當設準確]")
    leaked = {s: t for s, t in ZH.items() if traditional.search(t)}
    assert leaked == {}


def test_codes_the_console_names_are_all_labelled() -> None:
    values = pb.cases_pb2.CaseFactKind.DESCRIPTOR.values
    kinds = {v.name.removeprefix("CASE_FACT_KIND_") for v in values if v.number}
    assert set(i18n.FACT_LABELS) == kinds
    assert set(i18n.EVENT_KINDS) == set(pb.BODY_KINDS)
    assert set(i18n.SEVERITIES) == {r.severity for r in CATALOG} | {"low"}
    server = (CONSOLE / "server.py").read_text()
    actions = set(re.findall(r'_log_access\(request, "([a-z-]+)"', server))
    assert actions
    assert actions == set(i18n.ACTION_LABELS)
    assert set(i18n.ROLES) == set(ROLES)


def test_english_is_the_source_and_needs_no_catalog() -> None:
    assert i18n.translate("Open cases", "en") == "Open cases"
    assert i18n.translate("Open cases", "zh") == "未结案件"
    assert i18n.translate("a string nobody wrote", "zh") == "a string nobody wrote"
