"""Compliance end to end: gateway → Kafka → faust rules → jg.cases.v1 / jg.alerts.v2 →
ClickHouse, through a real `jianguan up`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from jianguan.accounts.registry import Authority, Provider, ProviderRegistry, token_digest
from jianguan.contracts import pb
from jianguan.runtime.launcher import RunningUp, launched_up
from jianguan.store.executor import ServerExecutor
from jianguan_sdk.chain import Chain
from jianguan_sdk.client import IngestClient
from tests.e2e.running import query, settled, until
from tests.helpers import chained, generation

pytestmark = pytest.mark.integration
TOKEN = "cases-token"
# SLAs of seconds instead of hours, so a test can watch deadlines pass.
OVERRIDES = json.dumps(
    {
        "ART14-ILLEGAL-CONTENT": {"disposal_hours": 3 / 3600, "report_hours": 600 / 3600},
        "ART18-AUTHORITY-COMPLAINT": {"match_grace_days": 3 / 86400},
    }
)
AUTHORITY_TOKEN = "cac-token"


def _replay(
    up: RunningUp, *args: str, overrides: str = OVERRIDES
) -> subprocess.CompletedProcess[str]:
    """`jianguan replay ARGS` against the stack, by default with the live rule parameters."""
    return subprocess.run(
        [sys.executable, "-m", "jianguan.cli", "replay", *args,
         "--clickhouse", up.writer_url.secret_url()],
        capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "JIANGUAN_RULE_OVERRIDES": overrides},
    )  # fmt: skip


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningUp]:
    registry = ProviderRegistry(
        [Provider("case-ai", "Case AI", token_sha256=token_digest(TOKEN))],
        [Authority("cac-bj", "CAC Beijing", token_digest(AUTHORITY_TOKEN))],
    )
    env = {
        "JIANGUAN_RULE_OVERRIDES": OVERRIDES,
        "JIANGUAN_RULE_TICK_SECONDS": "1",
        "JIANGUAN_CHECK_INTERVAL_SECONDS": "1",
        # not the default 6: the rules co-partitioned with topics made with another count
        "JIANGUAN_PARTITIONS": "8",
    }
    with launched_up(tmp_path_factory.mktemp("cases"), registry, env) as running:
        yield running


def test_illegal_output_opens_a_case_and_a_missed_disposal_raises_an_alert(up: RunningUp) -> None:
    (hit, report) = chained("case", 2)
    m = hit.moderation
    m.stage = pb.bodies_pb2.MODERATION_STAGE_OUTPUT
    m.risk_category = pb.bodies_pb2.RISK_CATEGORY_VIOLENCE
    m.action = pb.bodies_pb2.MODERATION_ACTION_NONE
    r = report.incident_report
    r.authority = "CAC"
    r.related_event_ids.append(hit.envelope.event_id)

    async def send() -> pb.BatchAck:
        async with IngestClient(up.gateway, token=TOKEN) as client:
            return await client.publish_batch([hit, report])

    assert asyncio.run(send()).accepted == 2
    case_id = f"ART14-ILLEGAL-CONTENT:case-ai:{hit.envelope.event_id}"
    rows = until(
        up,
        "SELECT case_id, rule_id, article, deadlines_missed, closed FROM cases",
        [(case_id, "ART14-ILLEGAL-CONTENT", "Art. 14 ¶1", 1, 0)],
    )
    assert rows == [(case_id, "ART14-ILLEGAL-CONTENT", "Art. 14 ¶1", 1, 0)]
    met = query(up, "SELECT obligation FROM case_facts FINAL WHERE kind = 2")
    assert met == [("report",)]
    alerts = until(
        up, "SELECT rule_id, article, case_id FROM alerts FINAL",
        [("ART14-ILLEGAL-CONTENT", "Art. 14 ¶1", case_id)],
    )  # fmt: skip
    assert alerts == [("ART14-ILLEGAL-CONTENT", "Art. 14 ¶1", case_id)]


def test_poison_on_the_event_log_stops_neither_the_rules_nor_the_store(up: RunningUp) -> None:
    """Records no ingest path writes (garbage, no value, a year-1 time) are set aside by the
    store and skipped by the rules; what comes after them is stored and judged."""
    from kafka import KafkaProducer

    from jianguan.contracts import topics
    from jianguan.contracts.codec import encode_batch
    from jianguan.runtime.broker import running_embedded
    from tests.helpers import generation

    listeners = running_embedded(up.state_dir)
    assert listeners is not None
    headers = topics.event_headers("case-ai", int(time.time() * 1000))
    year_one = generation("poison-y1")
    year_one.envelope.occurred_at.seconds = -62135596800
    producer = KafkaProducer(bootstrap_servers=listeners[0])
    try:
        for value in (b"\xff\xfe garbage", None, encode_batch("p", [year_one.SerializeToString()])):
            producer.send(topics.EVENTS, value, key=b"case-ai", headers=headers)
        producer.flush(30)
    finally:
        producer.close()
    (hit,) = chained("after-poison", 1, service="svc-poison")
    m = hit.moderation
    m.stage = pb.bodies_pb2.MODERATION_STAGE_OUTPUT
    m.risk_category = pb.bodies_pb2.RISK_CATEGORY_VIOLENCE
    m.action = pb.bodies_pb2.MODERATION_ACTION_BLOCKED

    async def send() -> pb.BatchAck:
        async with IngestClient(up.gateway, token=TOKEN) as client:
            return await client.publish_batch([hit])

    assert asyncio.run(send()).accepted == 1
    case_id = f"ART14-ILLEGAL-CONTENT:case-ai:{hit.envelope.event_id}"
    want = [(case_id,)]
    assert until(up, f"SELECT case_id FROM cases WHERE case_id = '{case_id}'", want) == want
    causes = "SELECT cause, count() FROM quarantine GROUP BY cause ORDER BY cause"
    want = [("out_of_range", 1), ("undecodable", 2)]
    assert until(up, causes, want) == want
    stored = "SELECT count() FROM events WHERE event_id IN ('after-poison-0', 'poison-y1')"
    assert query(up, stored) == [(1,)]


def test_corrections_and_retractions_recompute_cases(up: RunningUp) -> None:
    """A moderation hit opens an Art. 14 case; its correction (another category) withdraws the
    case. A complaint resolved and then its resolution retracted is open again. The originals
    stay in the event store, each correction linked once (raw rows)."""
    chain = Chain("svc-fix", stream_id="fix")
    hit, fixed = (generation(f"fix-hit{n}", service="svc-fix") for n in ("", "-2"))
    for ev, category in ((hit, 8), (fixed, 24)):  # pornography, then gender discrimination
        m = ev.moderation
        m.stage, m.risk_category, m.action = 2, category, 1  # type: ignore[assignment]
    fixed.envelope.corrects_event_id = "fix-hit"
    received, resolved = (generation(f"fix-c{i}", service="svc-fix") for i in (1, 2))
    for ev, status in ((received, 1), (resolved, 3)):
        c = ev.complaint
        c.complaint_id, c.status = "cmp-fix", status  # type: ignore[assignment]
        c.channel = pb.bodies_pb2.COMPLAINT_CHANNEL_IN_APP
        c.category = pb.bodies_pb2.COMPLAINT_CATEGORY_OTHER
    retraction = generation("fix-r", service="svc-fix")
    retraction.retraction.retracted_event_id = "fix-c2"
    retraction.retraction.reason = "resolved in error"

    async def send(*events: pb.event_pb2.Event) -> pb.BatchAck:
        async with IngestClient(up.gateway, token=TOKEN) as client:
            return await client.publish_batch([chain.seal(ev) for ev in events])

    cases = "SELECT rule_id, closed FROM cases WHERE service_id = 'svc-fix' ORDER BY rule_id"
    assert asyncio.run(send(hit, received, resolved)).accepted == 3
    opened = [("ART14-ILLEGAL-CONTENT", 0), ("ART15-COMPLAINT", 1)]
    assert until(up, cases, opened) == opened
    assert asyncio.run(send(fixed, retraction)).accepted == 2
    assert until(up, cases, [("ART15-COMPLAINT", 0)]) == [("ART15-COMPLAINT", 0)]
    links = until(
        up, "SELECT original_event_id, event_id, retracted FROM corrections"
        " WHERE provider_id = 'case-ai' ORDER BY event_id",
        [("fix-hit", "fix-hit-2", 0), ("fix-c2", "fix-r", 1)],
    )  # fmt: skip
    assert links == [("fix-hit", "fix-hit-2", 0), ("fix-c2", "fix-r", 1)]
    kept = query(
        up, "SELECT event_id, count() FROM events WHERE service_id = 'svc-fix'"
        " GROUP BY event_id ORDER BY event_id",
    )  # fmt: skip
    assert kept == [(e, 1) for e in ("fix-c1", "fix-c2", "fix-hit", "fix-hit-2", "fix-r")]


def test_replay_equals_live(up: RunningUp) -> None:
    """After live processing (the test above, plus a complaint handled in time), a replay of the
    event store produces exactly the live case facts."""

    (received, resolved) = chained("complaint", 2, service="svc-c")
    for ev, status in ((received, 1), (resolved, 3)):
        c = ev.complaint
        c.complaint_id = "cmp-1"
        c.status = status  # type: ignore[assignment]
        c.channel = pb.bodies_pb2.COMPLAINT_CHANNEL_IN_APP
        c.category = pb.bodies_pb2.COMPLAINT_CATEGORY_OTHER

    async def send() -> pb.BatchAck:
        async with IngestClient(up.gateway, token=TOKEN) as client:
            return await client.publish_batch([received, resolved])

    assert asyncio.run(send()).accepted == 2
    closed = until(
        up,
        "SELECT rule_id, closed FROM cases WHERE rule_id = 'ART15-COMPLAINT'"
        " AND service_id = 'svc-c'",
        [("ART15-COMPLAINT", 1)],
    )  # fmt: skip
    assert closed == [("ART15-COMPLAINT", 1)]

    proc = _replay(up, "--verify", "--grace", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "replay equals live" in proc.stderr
    # The configuration changed since (other SLAs now): the replay still decides each case with
    # the parameters the live rules had recorded for it.
    other = json.dumps({"ART14-ILLEGAL-CONTENT": {"disposal_hours": 48, "report_hours": 96}})
    proc = _replay(up, "--verify", "--grace", "2", overrides=other)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_replay_verify_names_a_fact_the_log_does_not_support(up: RunningUp) -> None:

    ex = ServerExecutor(up.writer_url)
    try:
        ex.insert_columns(
            "case_facts",
            ("provider_id", "case_id", "fact_id", "kind", "rule_id", "at", "due", "detected_at"),
            [["case-ai"], ["forged"], ["forged/OPENED/"], [1], ["ART15-COMPLAINT"],
             [1_700_000_000], [1_700_000_000], [1_700_000_000]],
        )  # fmt: skip
    finally:
        ex.close()
    proc = _replay(up, "--verify", "--grace", "2")
    assert proc.returncode == 1
    assert "live only:   forged/OPENED/ kind=1 obligation='' at=1700000000" in proc.stdout


def _observe_offshore(up: RunningUp, prefix: str, target: str, users: int) -> pb.event_pb2.Event:
    """A monitoring observation of an offshore service, accepted by the gateway."""
    (obs,) = chained(prefix, 1, service=f"monitoring-{prefix}")
    o = obs.offshore_observation
    o.observer, o.target, o.jurisdiction = "CAC monitoring", target, "SG"
    o.estimated_domestic_users = users

    async def send() -> pb.BatchAck:
        async with IngestClient(up.gateway, token=TOKEN) as client:
            return await client.publish_batch([obs])

    assert asyncio.run(send()).accepted == 1
    return obs


def test_store_checks_raise_offshore_alerts(up: RunningUp) -> None:
    obs = _observe_offshore(up, "offshore", "genai.example.org", 50_000)
    want = [("ART20-OFFSHORE", "Art. 20", "high", [obs.envelope.event_id])]
    rows = until(
        up,
        "SELECT rule_id, article, severity, evidence FROM alerts FINAL"
        " WHERE rule_id = 'ART20-OFFSHORE'",
        want,
    )
    assert rows == want
    # Published once: a second observation's alert appears a round later, and the first alert
    # still has one row (raw, no FINAL), with its first detection time.
    _observe_offshore(up, "offshore-2", "other.example.org", 60_000)
    count = "SELECT count() FROM alerts WHERE rule_id = 'ART20-OFFSHORE'"
    assert until(up, count, [(2,)]) == [(2,)]
    # The CAC notifies the relevant bodies: the offshore case shows its disposition.
    import grpc

    disposition = pb.authority_pb2.OffshoreDisposition(
        target="genai.example.org", stage=pb.authority_pb2.DISPOSITION_STAGE_NOTIFIED
    )
    disposition.at.seconds = int(time.time())

    async def notify() -> pb.authority_pb2.DispositionAck:
        async with grpc.aio.insecure_channel(up.gateway) as channel:
            stub = pb.authority_pb2_grpc.AuthorityIntakeServiceStub(channel)
            auth = (("authorization", f"Bearer {AUTHORITY_TOKEN}"),)
            return await stub.RecordDisposition(disposition, metadata=auth)

    assert asyncio.run(notify()).recorded
    cases = until(
        up,
        "SELECT target, observations, toString(disposition) FROM offshore_cases"
        " WHERE target = 'genai.example.org'",
        [("genai.example.org", 1, "NOTIFIED")],
    )
    assert cases == [("genai.example.org", 1, "NOTIFIED")]


def test_orders_to_correct_and_inspections_open_cases_with_the_authoritys_deadlines(
    up: RunningUp,
) -> None:
    """Art. 21 ¶1 and Art. 19 ¶1 through the live stack: the authority records its demands
    (deadlines it sets), the provider answers through the SDK, the rules judge; malformed
    demands and a provider's token are refused, and nothing refused reaches the log."""
    import grpc

    from jianguan.simulator.authority import record_actions

    A = pb.authority_pb2
    now = int(time.time())

    def order(ref: str, due_in: int, *articles: int) -> A.AuthorityAction:
        action = A.AuthorityAction()
        o = action.correction_order
        o.order_ref, o.provider_id, o.summary = ref, "case-ai", "改正"
        o.cited.extend(A.CitedProvision(article=a) for a in articles)
        o.issued_at.seconds, o.due_at.seconds = now - 1, now + due_in
        return action

    def inspection(ref: str, *topics: int) -> A.AuthorityAction:
        action = A.AuthorityAction()
        r = action.inspection_request
        r.request_ref, r.provider_id = ref, "case-ai"
        r.topics.extend(topics)
        r.issued_at.seconds, r.respond_by.seconds = now - 1, now + 600
        return action

    source, rules = (
        pb.bodies_pb2.INSPECTION_TOPIC_TRAINING_DATA_SOURCE,
        pb.bodies_pb2.INSPECTION_TOPIC_ANNOTATION_RULES,
    )
    good = [order("ORD-E1", 3, 12), order("ORD-E2", 600, 15), inspection("INS-E1", source, rules)]
    bad_provider = order("ORD-X1", 600, 12)
    bad_provider.correction_order.provider_id = "nobody"
    early = order("ORD-X2", -5, 12)
    bad_place = order("ORD-X3", 600, 21)
    bad_place.correction_order.cited[0].paragraph = 3  # Art. 21 has two
    beyond = order("ORD-X5", 600, 25)
    no_topics = inspection("INS-X1")
    acks = asyncio.run(
        record_actions(
            up.gateway, AUTHORITY_TOKEN, [*good, bad_provider, early, bad_place, beyond, no_topics]
        )
    )
    assert [a.recorded for a in acks[:3]] == [True, True, True], acks
    assert [(a.ref, a.field_path) for a in acks[3:]] == [
        ("ORD-X1", "provider_id"), ("ORD-X2", "due_at"), ("ORD-X3", "cited[0]"),
        ("ORD-X5", "cited[0].article"), ("INS-X1", "topics"),
    ]  # fmt: skip
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        asyncio.run(record_actions(up.gateway, TOKEN, [order("ORD-X4", 600, 12)]))
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED

    # each a chain of its own: a body changed after sealing would break a chain of two
    (report,), (answer,) = chained("correction", 1), chained("inspection-answer", 1)
    r = report.correction_report
    r.authority_id, r.order_ref, r.measures = "cac-bj", "ORD-E2", "已整改"
    r.completed_at.seconds = now
    r.documents.add(sha256=bytes(32), title="整改报告")
    a = answer.inspection_response
    a.authority_id, a.request_ref = "cac-bj", "INS-E1"
    a.topics.append(source)

    async def send() -> pb.BatchAck:
        async with IngestClient(up.gateway, token=TOKEN) as client:
            return await client.publish_batch([report, answer])

    assert asyncio.run(send()).accepted == 2
    settled(up, due_by=now + 3)
    want = [
        ("ART19-INSPECTION", "cac-bj:INS-E1", 0, 0, ["training_data_source"]),
        ("ART21-CORRECTION-ORDER", "cac-bj:ORD-E1", 1, 0, []),
        ("ART21-CORRECTION-ORDER", "cac-bj:ORD-E2", 0, 1, ["correction"]),
    ]
    rows = until(
        up,
        "SELECT rule_id, subject, deadlines_missed, closed, obligations_met FROM cases"
        " WHERE rule_id IN ('ART19-INSPECTION', 'ART21-CORRECTION-ORDER') ORDER BY subject",
        want,
    )
    assert rows == want
    alert = "SELECT severity, case_id FROM alerts FINAL WHERE rule_id = 'ART21-CORRECTION-ORDER'"
    assert query(up, alert) == [("critical", "ART21-CORRECTION-ORDER:case-ai:cac-bj:ORD-E1")]
    # every demand recorded once (raw rows), by the authority its token names
    assert query(up, "SELECT authority_id, ref FROM authority_actions ORDER BY ref") == [
        ("cac-bj", "INS-E1"), ("cac-bj", "ORD-E1"), ("cac-bj", "ORD-E2"),
    ]  # fmt: skip


def test_replay_equals_live_after_realistic_traffic(up: RunningUp) -> None:
    """The simulator's mix (moderation hits, complaints, filings, requests, reports) through the
    live stack; then the case projections are rebuilt from the event store and compared."""

    from jianguan.simulator.sender import Tally, stream_provider
    from jianguan.simulator.traffic import ProviderTraffic

    tally = Tally()
    source = ProviderTraffic("case-ai", ("svc-x", "svc-y"), seed=5)
    asyncio.run(stream_provider(up.gateway, TOKEN, source, 6000, 300, tally))
    assert tally.accepted == 6000, tally.rejected
    # Judged and stored: every event, and every disposal deadline (3 s) the traffic set.
    settled(up, due_by=time.time() + 3)
    assert query(up, "SELECT count() FROM case_facts")[0][0] > 10  # the mix opens cases
    proc = _replay(up, "--verify", "--grace", "2")
    forged = "forged/OPENED/ "  # left by the test above, when it ran first
    differences = [ln for ln in proc.stdout.splitlines() if forged not in ln]
    assert differences == [], proc.stdout[-3000:]
    # A rebuild replaces the projections with the replay (the forged fact goes), alerts of the
    # store checks included; a verify right after finds nothing to report.
    checked = "SELECT alert_id FROM alerts FINAL WHERE alert_id NOT LIKE '%/DEADLINE_MISSED/%'"
    checked_before = query(up, checked)
    rebuilt = _replay(up)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert query(up, "SELECT count() FROM case_facts WHERE case_id = 'forged'") == [(0,)]
    assert sorted(query(up, checked)) == sorted(checked_before)  # store-check alerts rebuilt
    again = _replay(up, "--verify", "--grace", "2")
    assert again.returncode == 0, again.stdout[-3000:]


def test_complaints_to_the_authority_are_matched_to_provider_records(up: RunningUp) -> None:
    import grpc

    def complaint(ref: str, forwarded: int | None = 0) -> pb.authority_pb2.AuthorityComplaint:
        """Received now; forwarded ``forwarded`` seconds later (None: not yet)."""
        c = pb.authority_pb2.AuthorityComplaint(
            authority_ref=ref, provider_id="case-ai", service_id="svc-chat",
            category=pb.bodies_pb2.COMPLAINT_CATEGORY_ILLEGAL_CONTENT,
        )  # fmt: skip
        c.received_at.seconds = int(time.time())
        if forwarded is not None:
            c.forwarded_at.seconds = c.received_at.seconds + forwarded
        return c

    async def record(c: pb.authority_pb2.AuthorityComplaint, token: str) -> object:
        async with grpc.aio.insecure_channel(up.gateway) as channel:
            stub = pb.authority_pb2_grpc.AuthorityIntakeServiceStub(channel)
            return await stub.RecordComplaint(c, metadata=(("authorization", f"Bearer {token}"),))

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        asyncio.run(record(complaint("AUTH-0"), TOKEN))  # a provider cannot file as an authority
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    for ref in ("AUTH-1", "AUTH-2"):
        ack = asyncio.run(record(complaint(ref), AUTHORITY_TOKEN))
        assert ack.recorded, ack  # type: ignore[attr-defined]
    # not forwarded yet: recorded, and the provider owes nothing (no case)
    assert asyncio.run(record(complaint("AUTH-3", None), AUTHORITY_TOKEN)).recorded  # type: ignore[attr-defined]
    early = asyncio.run(record(complaint("AUTH-4", -60), AUTHORITY_TOKEN))
    assert (early.recorded, early.field_path) == (False, "forwarded_at")  # type: ignore[attr-defined]
    (own,) = chained("own-record", 1, service="svc-chat")
    c = own.complaint
    c.complaint_id, c.authority_ref = "cmp-auth-1", "AUTH-1"
    c.status = pb.bodies_pb2.COMPLAINT_STATUS_RECEIVED
    c.channel = pb.bodies_pb2.COMPLAINT_CHANNEL_AUTHORITY_REFERRAL
    c.category = pb.bodies_pb2.COMPLAINT_CATEGORY_ILLEGAL_CONTENT

    async def send() -> pb.BatchAck:
        async with IngestClient(up.gateway, token=TOKEN) as client:
            return await client.publish_batch([own])

    assert asyncio.run(send()).accepted == 1
    want = [("AUTH-1", 0, 1), ("AUTH-2", 1, 0)]
    rows = until(
        up,
        "SELECT subject, deadlines_missed, closed FROM cases"
        " WHERE rule_id = 'ART18-AUTHORITY-COMPLAINT' ORDER BY subject",
        want,
    )
    assert rows == want
    assert query(
        up,
        "SELECT authority_ref, authority_id, forwarded_at > 0 FROM authority_complaints ORDER BY 1",
    ) == [("AUTH-1", "cac-bj", 1), ("AUTH-2", "cac-bj", 1), ("AUTH-3", "cac-bj", 0)]
    # Replay reads the authority's records too: it still equals live.
    verified = _replay(up, "--verify", "--grace", "1")
    assert verified.returncode == 0, verified.stdout[-3000:]
