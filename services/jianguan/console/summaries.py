"""An alert's summary in the viewer's language (pure).

A missed case deadline is said again from its parts (the rule, the obligation, the case's
subject, the article), which the alert carries in its ids; a store check's finding from the
phrases it was raised with (``domain.said``). An alert raised before its phrases were kept keeps
the English words it was raised with."""

from __future__ import annotations

from functools import partial

from jianguan.console import formats
from jianguan.console.i18n import N_, translate
from jianguan.domain.rules.catalog import BY_ID
from jianguan.domain.said import say
from jianguan.store.oversight import AlertRow

_MISSED = "/DEADLINE_MISSED/"
_SAID = N_("{title}: '{obligation}' for {subject} was not done by its deadline ({article})")
_FOUND = N_("{title}: {found} ({article})")
# How the phrases of a finding are joined, per language (English: the stored summary's "; ").
_JOINERS = {"zh": "；"}


def shown_summary(alert: AlertRow, lang: str) -> str:
    if lang == "en":
        return alert.summary
    rule = BY_ID.get(alert.rule_id)
    title = translate(rule.title, lang) if rule else alert.rule_id
    if alert.said:
        found = say(alert.said, partial(translate, lang=lang), _JOINERS.get(lang, "; "))
        return translate(_FOUND, lang).format(
            title=title, found=found, article=formats.article(alert.article, lang)
        )
    if not alert.case_id or _MISSED not in alert.alert_id:
        return alert.summary
    prefix = f"{alert.rule_id}:{alert.provider_id}:"
    if not alert.case_id.startswith(prefix) or not alert.alert_id.startswith(alert.case_id):
        return alert.summary  # not an id the rules made
    obligation = alert.alert_id.rsplit("/", 1)[1]
    return translate(_SAID, lang).format(
        title=title,
        obligation=translate(obligation, lang),
        subject=alert.case_id.removeprefix(prefix),
        article=formats.article(alert.article, lang),
    )
