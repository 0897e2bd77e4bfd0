"""The console's languages. Strings are written in English where they are shown (templates,
``N_``-marked Python) and translated by gettext message catalogs
(``console/locale/<lang>/LC_MESSAGES/messages.po``, read with Babel); English is the source
language and needs no catalog. ``tests/unit/test_console_i18n.py`` extracts every string with
Babel and fails on one the Chinese catalog does not translate, and on the values stored in the
platform that the console shows (severities, obligations, rule titles, kinds, statuses).
"""

from __future__ import annotations

import functools
from pathlib import Path

from babel.messages.pofile import read_po

from jianguan.contracts import pb

LANGS = ("zh", "en")
LOCALE_DIR = Path(__file__).parent / "locale"


def N_(text: str) -> str:
    """Marks ``text`` for the catalogs; it is translated where it is shown."""
    return text


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """msgid → translation of ``lang``'s catalog (fuzzy and empty entries left out)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == "en" or not path.exists():
        return {}
    with path.open("rb") as f:
        parsed = read_po(f, locale=lang)
    return {
        str(m.id): str(m.string)
        for m in parsed
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


def translate(text: str, lang: str) -> str:
    """``text`` in ``lang``; itself when the catalog has no translation (English)."""
    return catalog(lang).get(text, text) if lang != "en" else text


# -- what stored codes are called -------------------------------------------------------------

SEVERITIES = (N_("critical"), N_("high"), N_("medium"), N_("low"))
ROLES = (N_("admin"), N_("analyst"), N_("viewer"))
# The obligations the rules set deadlines for (case facts name them).
OBLIGATIONS = (
    N_("acknowledge"), N_("answer"), N_("disposal"), N_("enforcement"), N_("provider_record"),
    N_("publish_deadline"), N_("rectification"), N_("report"), N_("resolve"),
)  # fmt: skip
# A deadline's state on a case page (evidence.build).
STATUS_LABELS = {
    "met": N_("Met"),
    "met_late": N_("Met late"),
    "pending": N_("Pending"),
    "overdue": N_("Overdue"),
}
# A case's status (a list's filter).
STATUS_NAMES = {"open": N_("Open"), "overdue": N_("Overdue"), "closed": N_("Closed")}
# A case fact, as a line of the case's timeline ({obligation}, {due} filled in).
FACT_LABELS = {
    "OPENED": N_("Case opened"),
    "OBLIGATION_MET": N_("{obligation}: met"),
    "DEADLINE_MISSED": N_("{obligation}: deadline missed (due {due})"),
    "CLOSED": N_("Case closed"),
    "STATUS": N_("Case status"),
}
# The access log's actions.
ACTION_LABELS = {
    "view-case": N_("Viewed a case"),
    "export-case": N_("Exported a case's evidence"),
    "view-alert": N_("Viewed an alert"),
    "refused": N_("Refused: outside the viewer's scope"),
    "export-list": N_("Exported a list"),
}
# The filters' fields.
FILTER_LABELS = {
    "provider": N_("Provider"),
    "service": N_("Service"),
    "article": N_("Article"),
    "severity": N_("Severity"),
    "status": N_("Status"),
}
# An event's body kind (the contract's body field names).
EVENT_KINDS = (
    N_("generation"), N_("moderation"), N_("user_enforcement"), N_("complaint"),
    N_("personal_info_request"), N_("service_filing"), N_("incident_report"),
    N_("model_rectification"), N_("offshore_observation"), N_("correction_report"),
    N_("inspection_response"), N_("safety_evaluation"), N_("retraction"),
)  # fmt: skip
# What an inspection asks about (Art. 19 ¶1), as its obligations are named.
INSPECTION_TOPICS = (
    N_("training_data_source"), N_("training_data_scale"), N_("training_data_type"),
    N_("annotation_rules"), N_("algorithm_mechanism"), N_("technical_support"),
    N_("data_support"),
)  # fmt: skip
# An offshore service's disposition (Art. 20), as the offshore_cases view names it.
DISPOSITIONS = (N_("OPEN"), N_("NOTIFIED"), N_("TECHNICAL_MEASURES"), N_("CLOSED"))


def _enum_labels(enum: object, prefix: str, labels: tuple[str, ...]) -> dict[int, str]:
    """Codes of a contract enum → their labels, matched by name (held equal by a test)."""
    values = [v for v in enum.DESCRIPTOR.values if v.number]  # type: ignore[attr-defined]
    names = [v.name.removeprefix(prefix).lower().replace("_", " ") for v in values]
    by_name = dict(zip(names, labels, strict=True))
    return {v.number: by_name[n] for v, n in zip(values, names, strict=True)}


FILING_KINDS = _enum_labels(
    pb.bodies_pb2.FilingKind,
    "FILING_KIND_",
    (N_("registration"), N_("security assessment"), N_("algorithm filing"), N_("change"),
     N_("cancellation")),
)  # fmt: skip
FILING_STATUSES = _enum_labels(
    pb.bodies_pb2.FilingStatus,
    "FILING_STATUS_",
    (N_("submitted"), N_("granted"), N_("rejected"), N_("revoked")),
)
COMPLAINT_CATEGORIES = _enum_labels(
    pb.bodies_pb2.ComplaintCategory,
    "COMPLAINT_CATEGORY_",
    (N_("illegal content"), N_("discrimination"), N_("personal information"),
     N_("minor protection"), N_("inaccurate content"), N_("labeling"),
     N_("intellectual property"), N_("service quality"), N_("other")),
)  # fmt: skip
