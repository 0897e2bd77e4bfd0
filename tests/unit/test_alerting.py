"""Alert delivery, the pure parts: signatures, receiver configuration, payloads, bookkeeping."""

from __future__ import annotations

import json

import pytest

from jianguan.alerting.config import ConfigError, parse
from jianguan.alerting.ledger import OffsetTracker, Seen, delivery_key
from jianguan.alerting.payload import alertmanager_body, evidence_url, webhook_body
from jianguan.alerting.signing import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    DeliveryGuard,
    signed_headers,
    verify,
)
from jianguan.contracts import pb

SECRET = b"s3cret-s3cret-s3cret"


def _alert(
    alert_id: str = "ART15-COMPLAINT:acme:c-1/DEADLINE_MISSED/resolve",
) -> pb.cases_pb2.Alert:
    a = pb.cases_pb2.Alert(
        alert_id=alert_id, rule_id="ART15-COMPLAINT", article="Art. 15", severity="medium",
        provider_id="acme", service_id="chat", case_id="ART15-COMPLAINT:acme:c-1",
        summary="not resolved in time", evidence=["ev-1"],
    )  # fmt: skip
    a.detected_at.FromSeconds(1_790_000_000)
    a.due.FromSeconds(1_789_000_000)
    return a


def test_a_signature_verifies_only_for_the_same_secret_body_delivery_and_a_fresh_timestamp() -> (
    None
):
    body = b'{"alerts": []}'
    headers = signed_headers(SECRET, 1000, body, "d-1")
    assert verify(SECRET, headers, body, now=1010) == "d-1"
    assert verify(SECRET, {k.lower(): v for k, v in headers.items()}, body, now=1010) == "d-1"
    assert verify(b"another-secret-xxxxx", headers, body, now=1010) is None
    assert verify(SECRET, headers, body + b" ", now=1010) is None
    assert verify(SECRET, headers, body, now=1000 + 301) is None  # a replay, too late
    assert verify(SECRET, {SIGNATURE_HEADER: headers[SIGNATURE_HEADER]}, body, now=1010) is None
    # the delivery id is signed: a captured request cannot be passed off as a new delivery
    assert verify(SECRET, {**headers, DELIVERY_HEADER: "d-2"}, body, now=1010) is None


def test_a_receiver_takes_each_delivery_once_within_the_window() -> None:
    guard = DeliveryGuard(tolerance_s=300)
    assert guard.first("d-1", now=1000)
    assert not guard.first("d-1", now=1200)  # replayed (or a retry of a delivery that arrived)
    assert guard.first("d-2", now=1200)
    assert guard.first("d-1", now=1000 + 601)  # forgotten once verify refuses it by its age
    assert not guard.first("d-1", now=1000 + 602)


def test_receivers_are_parsed_and_bad_ones_named() -> None:
    cfg = parse(
        json.dumps({"console_url": "https://jg.example/", "receivers": [
            {"name": "duty", "kind": "webhook", "url": "https://h.example/x",
             "secret_env": "HOOK", "min_severity": "high", "providers": ["acme"]},
            {"name": "am", "kind": "alertmanager", "url": "http://127.0.0.1:9093/"},
        ]}),
        {"HOOK": "0123456789abcdef"},
    )  # fmt: skip
    duty, am = cfg.receivers
    assert cfg.console_url == "https://jg.example"
    assert duty.secret == b"0123456789abcdef"
    assert duty.wants("critical", "acme")
    assert not duty.wants("medium", "acme")
    assert not duty.wants("critical", "other")
    assert am.url == "http://127.0.0.1:9093"
    assert am.wants("low", "anyone")
    bad = [
        ({"receivers": [{"name": "x", "kind": "sms", "url": "http://a"}]}, r"receivers\[0\].kind"),
        ({"receivers": [{"name": "x", "kind": "webhook", "url": "http://a"}]}, "secret"),
        ({"receivers": [{"name": "x", "kind": "webhook", "url": "ftp://a", "secret": "x" * 16}]},
         r"receivers\[0\].url"),
        ({"receivers": [{"kind": "alertmanager", "url": "http://a"}]}, r"receivers\[0\].name"),
        ({"receivers": [{"name": "x", "kind": "webhook", "url": "http://a", "secret_env": "NO"}]},
         "NO is not set"),
    ]  # fmt: skip
    for doc, message in bad:
        with pytest.raises(ConfigError, match=message):
            parse(json.dumps(doc), {})


def test_payloads_carry_rule_article_provider_and_an_evidence_link() -> None:
    a = _alert()
    doc = json.loads(webhook_body("duty", "https://jg.example", [a]))
    (item,) = doc["alerts"]
    assert (item["rule_id"], item["article"], item["provider_id"]) == (
        "ART15-COMPLAINT",
        "Art. 15",
        "acme",
    )
    assert item["evidence_url"] == "https://jg.example/cases/ART15-COMPLAINT%3Aacme%3Ac-1"
    assert item["detected_at"] == "2026-09-21T14:13:20Z"
    (am,) = json.loads(alertmanager_body("https://jg.example", [a]))
    assert am["labels"]["rule"] == "ART15-COMPLAINT"
    assert am["annotations"]["evidence"] == item["evidence_url"]
    store = pb.cases_pb2.Alert(alert_id="ART12-LABELING:acme:img:2026", rule_id="ART12-LABELING")
    assert evidence_url("https://x", store) == "https://x/alerts/ART12-LABELING%3Aacme%3Aimg%3A2026"


def test_offsets_are_committed_only_behind_finished_records() -> None:
    t = OffsetTracker()
    t.add(0, 10, 2)  # two receivers
    t.add(0, 11, 0)  # a duplicate: nothing to deliver
    t.add(0, 12, 1)
    assert t.committable() == {}
    t.finish(0, 12)
    assert t.committable() == {}  # 10 is still out
    t.finish(0, 10)
    assert t.committable() == {}
    t.finish(0, 10)
    assert t.committable() == {0: 13}
    assert t.committable() == {}  # reported once


def test_each_receiver_gets_an_alert_once() -> None:
    seen = Seen({("duty", "a-1")})
    assert not seen.claim("duty", "a-1")
    assert seen.claim("am", "a-1")
    assert not seen.claim("am", "a-1")


def test_a_withdrawn_alert_is_sent_as_withdrawn_and_resolved() -> None:
    a = _alert()
    a.retracted, a.revision = True, 7
    assert delivery_key(a) == a.alert_id + "#withdrawn"
    (item,) = json.loads(webhook_body("duty", "https://jg.example", [a]))["alerts"]
    assert item["status"] == "withdrawn"
    (am,) = json.loads(alertmanager_body("https://jg.example", [a]))
    assert am["endsAt"] == "2026-09-21T14:13:20Z"
    (firing,) = json.loads(webhook_body("duty", "https://jg.example", [_alert()]))["alerts"]
    assert firing["status"] == "firing"
    assert "endsAt" not in json.loads(alertmanager_body("https://jg.example", [_alert()]))[0]


def test_a_record_of_alerts_is_routed_and_a_withdrawal_goes_only_where_the_alert_went() -> None:
    from jianguan.alerting.config import AlertingConfig, Receiver
    from jianguan.alerting.dispatcher import Dispatcher
    from jianguan.store.executor import ClickHouseUrl

    config = AlertingConfig(
        "https://jg.example",
        (
            Receiver("all", "webhook", "https://a.example/hook", SECRET),
            Receiver(
                "critical", "webhook", "https://c.example/hook", SECRET, min_severity="critical"
            ),
        ),
    )
    d = Dispatcher("127.0.0.1:1", ClickHouseUrl("127.0.0.1", 1, "w", "p", "db"), config)
    first, second = _alert("a-1"), _alert("a-2")
    d._route(0, 10, [first, second])
    queued = {w.receiver.name: w.queue.qsize() for w in d._workers}
    assert queued == {"all": 2, "critical": 0}  # medium alerts: not for "critical"
    withdrawn = _alert("a-1")
    withdrawn.retracted = True
    never_sent = _alert("a-9")
    never_sent.retracted = True
    d._route(0, 11, [withdrawn, never_sent])
    queued = {w.receiver.name: w.queue.qsize() for w in d._workers}
    assert queued == {"all": 3, "critical": 0}  # a-1's withdrawal only; a-9 went nowhere
    d._route(0, 12, [withdrawn])
    assert d._workers[0].queue.qsize() == 3  # withdrawn once
    assert d._offsets.committable() == {}  # nothing delivered yet


def test_an_inspections_alerts_go_only_to_the_requesting_authoritys_receivers() -> None:
    """Art. 19 ¶2: an inspection's alert reaches the receivers of the authority that made the
    request, and no receiver without an authority; other rules' alerts go everywhere."""
    from jianguan.alerting.config import AlertingConfig, Receiver
    from jianguan.alerting.dispatcher import Dispatcher
    from jianguan.store.executor import ClickHouseUrl

    config = AlertingConfig(
        "https://jg.example",
        (
            Receiver("everyone", "webhook", "https://a.example/hook", SECRET),
            Receiver("bj", "webhook", "https://b.example/hook", SECRET, authority="cac-bj"),
            Receiver("sh", "webhook", "https://s.example/hook", SECRET, authority="cac-sh"),
        ),
    )
    d = Dispatcher("127.0.0.1:1", ClickHouseUrl("127.0.0.1", 1, "w", "p", "db"), config)
    inspection = _alert("ART19-INSPECTION:acme:cac-bj:INS-1/DEADLINE_MISSED/annotation_rules")
    inspection.rule_id, inspection.case_id = (
        "ART19-INSPECTION",
        "ART19-INSPECTION:acme:cac-bj:INS-1",
    )
    d._route(0, 10, [inspection, _alert("a-2")])
    queued = {w.receiver.name: w.queue.qsize() for w in d._workers}
    assert queued == {"everyone": 1, "bj": 2, "sh": 1}
