"""What a receiver gets (pure): a JSON document per group of alerts for a webhook, and the
Alertmanager v2 API's list of alerts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from jianguan.contracts import pb

Alert = pb.cases_pb2.Alert
VERSION = "1"


def evidence_url(console_url: str, alert: Alert) -> str:
    """The console page holding the alert's evidence: its case, or the alert itself."""
    if alert.case_id:
        return f"{console_url}/cases/{quote(alert.case_id, safe='')}"
    return f"{console_url}/alerts/{quote(alert.alert_id, safe='')}"


def _iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def alert_doc(console_url: str, a: Alert) -> dict[str, Any]:
    return {
        "alert_id": a.alert_id,
        # "withdrawn": the rules retracted the miss (a late event showed it met in time).
        "status": "withdrawn" if a.retracted else "firing",
        "rule_id": a.rule_id,
        "article": a.article,
        "severity": a.severity,
        "provider_id": a.provider_id,
        "service_id": a.service_id,
        "case_id": a.case_id,
        "summary": a.summary,
        "due": _iso(a.due.seconds),
        "detected_at": _iso(a.detected_at.seconds),
        "evidence": list(a.evidence),
        "evidence_url": evidence_url(console_url, a),
    }


def webhook_body(receiver: str, console_url: str, alerts: Sequence[Alert]) -> bytes:
    """One provider's alerts, grouped; stable key order so the signed bytes are reproducible."""
    doc = {
        "version": VERSION,
        "receiver": receiver,
        "provider_id": alerts[0].provider_id,
        "alerts": [alert_doc(console_url, a) for a in alerts],
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()


def alertmanager_body(console_url: str, alerts: Sequence[Alert]) -> bytes:
    out = []
    for a in alerts:
        url = evidence_url(console_url, a)
        out.append(
            {
                "labels": {
                    "alertname": "JianguanViolation",
                    "source": "dispatcher",
                    "rule": a.rule_id,
                    "article": a.article,
                    "severity": a.severity,
                    "provider": a.provider_id,
                    "service": a.service_id,
                    "alert_id": a.alert_id,
                },
                "annotations": {"summary": a.summary, "evidence": url},
                "startsAt": _iso(a.detected_at.seconds),
                "generatorURL": url,
                # A withdrawn alert is resolved from the moment it was withdrawn.
                **({"endsAt": _iso(a.detected_at.seconds)} if a.retracted else {}),
            }
        )
    return json.dumps(out, ensure_ascii=False).encode()
