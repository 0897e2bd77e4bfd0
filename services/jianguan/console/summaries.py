"""An alert's summary in the viewer's language (pure).

A missed case deadline is said again from its parts (the rule, the obligation, the case's
subject, the article), which the alert carries in its ids. The store checks' alerts keep the
words they were raised with, in English, until their summaries carry their parts too."""

from __future__ import annotations

from jianguan.console import formats
from jianguan.console.i18n import N_, translate
from jianguan.domain.rules.catalog import BY_ID
from jianguan.store.oversight import AlertRow

_MISSED = "/DEADLINE_MISSED/"
_SAID = N_("{title}: '{obligation}' for {subject} was not done by its deadline ({article})")


def shown_summary(alert: AlertRow, lang: str) -> str:
    if lang == "en" or not alert.case_id or _MISSED not in alert.alert_id:
        return alert.summary
    prefix = f"{alert.rule_id}:{alert.provider_id}:"
    if not alert.case_id.startswith(prefix) or not alert.alert_id.startswith(alert.case_id):
        return alert.summary  # not an id the rules made
    obligation = alert.alert_id.rsplit("/", 1)[1]
    rule = BY_ID.get(alert.rule_id)
    return translate(_SAID, lang).format(
        title=translate(rule.title, lang) if rule else alert.rule_id,
        obligation=translate(obligation, lang),
        subject=alert.case_id.removeprefix(prefix),
        article=formats.article(alert.article, lang),
    )
