"""Direct Kafka ingest: providers' inbound topics, the same checks as gRPC, per-item feedback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass

import pytest

from jianguan.contracts import pb
from jianguan.ingest.inbound import InboundValidator
from jianguan.kafka_io.access import SCRAM_MECHANISM, issue_credential, sync_access
from jianguan.runtime.broker import KafkaCluster
from jianguan_sdk.client import IngestClient
from jianguan_sdk.kafka_client import KafkaIngestClient
from tests.helpers import chained, generation
from tests.integration.conftest import TOKENS, Spine, registry

pytestmark = pytest.mark.integration


@dataclass
class Inbound:
    validator: InboundValidator
    provider_bootstrap: str
    passwords: dict[str, str]

    def security(self, provider: str) -> dict[str, str]:
        """The provider's client settings for the SASL/SCRAM listener."""
        return {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": SCRAM_MECHANISM,
            "sasl_plain_username": provider,
            "sasl_plain_password": self.passwords[provider],
        }


@pytest.fixture
def inbound(spine: Spine, broker: KafkaCluster) -> Iterator[Inbound]:
    """The inbound validator, and each provider's SCRAM credential on the providers' listener."""
    reg = registry()
    sync_access(spine.bootstrap, reg.providers, spine.namespace)
    passwords = {p.id: issue_credential(spine.bootstrap, p.id) for p in reg.providers}
    validator = InboundValidator(
        spine.bootstrap, reg, spine.namespace, group=f"inbound-{spine.namespace}"
    )
    spine.loop.run(validator.start())
    task: Future[None] = spine.loop.submit(validator.run())
    try:
        yield Inbound(validator, broker.provider_bootstrap, passwords)
    finally:
        validator.request_stop()

        async def stopped() -> None:
            await asyncio.wait_for(asyncio.wrap_future(task), 30)

        spine.loop.run(stopped())


def _via_kafka(
    spine: Spine, inbound: Inbound, provider: str, events: list[pb.event_pb2.Event]
) -> pb.BatchAck:
    """As the provider does: SASL/SCRAM on the providers' listener, its own principal."""
    security = inbound.security(provider)

    async def go() -> pb.BatchAck:
        async with KafkaIngestClient(
            inbound.provider_bootstrap, provider, spine.namespace, security
        ) as client:
            return await client.publish_batch(events)

    return spine.loop.run(go(), timeout=90)


def test_a_batch_via_kafka_lands_and_gets_feedback(spine: Spine, inbound: Inbound) -> None:
    ack = _via_kafka(spine, inbound, "acme-ai", chained("k", 25))
    assert (ack.received, ack.accepted, list(ack.results)) == (25, 25, [])
    assert spine.wait_stored(25) == 25
    per_provider = (
        "SELECT provider_id, count(), uniqExact(event_id) FROM events GROUP BY provider_id"
    )
    assert spine.query(per_provider) == [("acme-ai", 25, 25)]


def test_invalid_items_get_reasons_on_the_feedback_topic(spine: Spine, inbound: Inbound) -> None:
    events = chained("kv", 4)
    events[2].complaint.summary = "call 13800138000"  # replaces the body: a complaint now
    events[2].complaint.complaint_id = "c-1"
    events[2].complaint.status = pb.bodies_pb2.COMPLAINT_STATUS_RECEIVED
    events[2].complaint.channel = pb.bodies_pb2.COMPLAINT_CHANNEL_PHONE
    events[2].complaint.category = pb.bodies_pb2.COMPLAINT_CATEGORY_OTHER
    events[3].envelope.occurred_at.seconds += 86_400  # a day in the future
    ack = _via_kafka(spine, inbound, "beta-ai", events)
    assert ack.accepted == 2
    by_index = {r.index: r for r in ack.results}
    assert by_index[2].status == pb.ingest_pb2.ITEM_STATUS_PERSONAL_INFORMATION
    assert by_index[2].field_path == "events[2].complaint.summary"
    assert by_index[3].status == pb.ingest_pb2.ITEM_STATUS_INVALID
    assert by_index[3].field_path == "events[3].envelope.occurred_at"
    assert spine.wait_stored(2) == 2
    assert {r[0] for r in spine.query("SELECT event_id FROM events FINAL")} == {"kv-0", "kv-1"}


def test_the_same_events_by_grpc_and_kafka_are_stored_once(spine: Spine, inbound: Inbound) -> None:
    events = chained("both", 30)

    async def by_grpc() -> pb.BatchAck:
        async with IngestClient(spine.target, token=TOKENS["gamma-ai"]) as client:
            return await client.publish_batch(events)

    assert spine.loop.run(by_grpc()).accepted == 30
    kafka_ack = _via_kafka(spine, inbound, "gamma-ai", events)
    assert kafka_ack.received == 30
    # each path keeps its own duplicate memory, so each may store its copy (raw rows) …
    copies = 30 + kafka_ack.accepted
    raw = "SELECT count(), uniqExact(event_id) FROM events"
    deadline = time.monotonic() + 30
    while spine.query(raw)[0][0] < copies and time.monotonic() < deadline:
        time.sleep(0.1)
    assert spine.query(raw) == [(copies, 30)]
    # … and regulators see each event once
    assert spine.query("SELECT count() FROM events_unique") == [(30,)]


def test_garbage_is_answered_under_the_records_key(spine: Spine, inbound: Inbound) -> None:
    """A record that is no EventBatch at all still gets its feedback, keyed and labelled with the
    record's key, so the sender can match it; nothing is stored."""
    security = inbound.security("acme-ai")

    async def go() -> pb.BatchAck:
        async with KafkaIngestClient(
            inbound.provider_bootstrap, "acme-ai", spine.namespace, security
        ) as client:
            return await client.publish_encoded("garbage-1", b"\xff\xfe not protobuf")

    ack = spine.loop.run(go(), timeout=90)
    assert ack.batch_id == "garbage-1"
    assert [r.status for r in ack.results] == [pb.ingest_pb2.ITEM_STATUS_INVALID]
    assert "malformed from byte 0" in ack.results[0].reason
    marker = spine.barrier("acme-ai")
    assert spine.query("SELECT event_id FROM events") == [(marker,)]


def test_a_batch_naming_another_provider_is_rejected(spine: Spine, inbound: Inbound) -> None:
    events = [generation("spoof-1"), generation("spoof-2")]
    for ev in events:
        ev.envelope.provider_id = "beta-ai"
    ack = _via_kafka(spine, inbound, "acme-ai", events)
    assert ack.accepted == 0
    assert {r.status for r in ack.results} == {pb.ingest_pb2.ITEM_STATUS_FORBIDDEN}
    assert all("acme-ai" in r.reason for r in ack.results)
    for provider in ("acme-ai", "beta-ai"):  # neither the sender's nor the named provider's
        spine.barrier(provider)
    assert spine.query("SELECT count() FROM events WHERE event_id LIKE 'spoof-%'") == [(0,)]


def test_outcomes_of_both_paths_are_recorded_for_report_cards(
    spine: Spine, inbound: Inbound
) -> None:
    import time

    good = chained("out-g", 5)
    bad = chained("out-k", 3)
    bad[1].generation.output_type = 42  # type: ignore[assignment]

    async def by_grpc() -> pb.BatchAck:
        async with IngestClient(spine.target, token=TOKENS["acme-ai"]) as client:
            return await client.publish_batch(good, "grpc-batch")

    assert spine.loop.run(by_grpc()).accepted == 5
    assert _via_kafka(spine, inbound, "acme-ai", bad).accepted == 2
    rows: list[tuple[object, ...]] = []
    deadline = time.monotonic() + 30
    while len(rows) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        rows = spine.query(
            "SELECT path, sum(received), sum(accepted) FROM ingest_outcomes FINAL"
            " WHERE provider_id = 'acme-ai' GROUP BY path ORDER BY path"
        )
    assert rows == [("grpc", 5, 5), ("kafka", 3, 2)]
    errors = spine.query(
        "SELECT path, event_id, toString(status), field_path FROM ingest_errors"
        " WHERE provider_id = 'acme-ai'"
    )
    assert errors == [("kafka", "out-k-1", "INVALID", "events[1].generation.output_type")]


def test_the_distributions_console_consumer_reads_the_event_log(spine: Spine) -> None:
    """Standard tooling: `jianguan kafka console-consumer` (the Kafka distribution's class, from
    the jars `make install` fetched) reads jg.events.v1 as any Kafka tool would."""
    import subprocess
    import sys

    async def by_grpc() -> pb.BatchAck:
        async with IngestClient(spine.target, token=TOKENS["acme-ai"]) as client:
            return await client.publish_batch(chained("tooling", 3))

    assert spine.loop.run(by_grpc()).accepted == 3
    done = subprocess.run(
        [sys.executable, "-m", "jianguan.cli", "kafka", "console-consumer",
         "--bootstrap-server", spine.bootstrap, "--topic", spine.topic, "--from-beginning",
         "--max-messages", "1", "--timeout-ms", "60000", "--property", "print.key=true",
         "--property", "print.value=false", "--property", "print.headers=true"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    # headers, then the key (the provider): the record as the gateway wrote it
    line = done.stdout.strip().splitlines()[-1]
    assert "jg-provider:acme-ai" in line
    assert "jg-schema:jianguan.v1.EventBatch" in line
    assert line.split("\t")[1] == "acme-ai"
