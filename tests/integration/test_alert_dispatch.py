"""The alert dispatcher on the real broker and ClickHouse, with real HTTP receivers: each alert
reaches each receiver once, signed; a dead receiver neither blocks the others nor loses
anything silently; a restart delivers nothing twice."""

from __future__ import annotations

import contextlib
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from jianguan.alerting.config import AlertingConfig, Receiver
from jianguan.alerting.dispatcher import Dispatcher
from jianguan.alerting.signing import verify
from jianguan.contracts import pb, topics
from jianguan.kafka_io.admin import ensure_topics
from jianguan.kafka_io.producer import EventLogProducer
from jianguan.runtime.broker import KafkaCluster
from jianguan.store.executor import ClickHouseUrl, ServerExecutor
from tests.integration.conftest import LoopThread
from tests.webhook import Hook

pytestmark = pytest.mark.integration
SECRET = b"receiver-secret-0123"


@pytest.fixture
def hooks() -> Iterator[dict[str, Hook]]:
    made = {"good": Hook(), "flaky": Hook(failures=2)}
    yield made
    for h in made.values():
        h.close()


def _alert(n: int, provider: str = "acme-ai") -> pb.cases_pb2.Alert:
    a = pb.cases_pb2.Alert(
        alert_id=f"ART12-LABELING:{provider}:img:{n}", rule_id="ART12-LABELING",
        article="Art. 12", severity="high", provider_id=provider, service_id="img",
        summary=f"labeled 3 of 4 in hour {n}", evidence=[f"img-{n}"],
    )  # fmt: skip
    a.detected_at.FromSeconds(int(time.time()))
    return a


def _deliveries(url: ClickHouseUrl) -> dict[tuple[str, str], tuple[str, int]]:
    ex = ServerExecutor(url)
    try:
        rows = ex.execute("SELECT receiver, alert_id, state, attempts FROM alert_delivery_state")
    finally:
        ex.close()
    return {(r, a): (s, n) for r, a, s, n in rows}


def test_alerts_reach_every_receiver_once_and_a_dead_one_blocks_nothing(
    broker: KafkaCluster, database: ClickHouseUrl, hooks: dict[str, Hook]
) -> None:
    namespace = f"t{uuid.uuid4().hex[:10]}"
    topic = topics.topic_name(topics.ALERTS, namespace)
    ensure_topics(broker.bootstrap, [topic], topics.PARTITIONS)
    # A receiver that accepts connections and never answers: each attempt hangs until timeout.
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)
    dead_url = f"http://127.0.0.1:{hung.getsockname()[1]}/never-answers"
    config = AlertingConfig(
        "https://console.example",
        (
            Receiver("good", "webhook", hooks["good"].url, SECRET),
            Receiver("flaky", "webhook", hooks["flaky"].url, SECRET, base_delay_s=0.05),
            Receiver(
                "dead", "webhook", dead_url, SECRET, max_attempts=2, base_delay_s=0.1, timeout_s=3
            ),
            Receiver(
                "critical-only", "webhook", hooks["good"].url, SECRET, min_severity="critical"
            ),
        ),
    )
    loop = LoopThread()
    producer = EventLogProducer(broker.bootstrap, topic, topic)

    async def publish(alerts: list[pb.cases_pb2.Alert]) -> None:
        """One record per alert (as a batch of input that raised one alert publishes it)."""
        for a in alerts:
            record = pb.cases_pb2.Alerts(alerts=[a]).SerializeToString()
            await producer.send(topic, a.provider_id.encode(), record, [])

    running: list[Any] = []

    def run_dispatcher() -> tuple[Dispatcher, Any]:
        d = Dispatcher(broker.bootstrap, database, config, namespace, group_wait_s=0.3)
        loop.run(d.start())
        running[:] = [d, loop.submit(d.run())]
        return d, running[1]

    try:
        loop.run(producer.start())
        dispatcher, task = run_dispatcher()
        # Three alerts, one of them twice (a store check re-publishes a standing violation).
        loop.run(publish([_alert(1), _alert(2), _alert(1), _alert(3, "beta-ai")]))
        deadline = time.monotonic() + 30
        while len(hooks["good"].alert_ids()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(hooks["good"].alert_ids()) == sorted(_alert(n).alert_id if n < 3 else
                                                           _alert(3, "beta-ai").alert_id
                                                           for n in (1, 2, 3))  # fmt: skip
        # Grouped by provider: acme's two alerts in one request, beta's in another.
        assert sorted(len(doc["alerts"]) for doc in hooks["good"].bodies()) == [1, 2]
        deliveries = [verify(SECRET, h, body, now=at) for _, h, body, at in hooks["good"].requests]
        assert None not in deliveries
        assert len(set(deliveries)) == len(deliveries)  # every delivery its own id
        # The hanging receiver's first attempt had not even timed out: it held nothing back.
        assert not [k for k in _deliveries(database) if k[0] == "dead"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            states = _deliveries(database)
            if sum(1 for (r, _), (s, _) in states.items() if s in ("delivered", "failed")) == 9:
                break
            time.sleep(0.2)
        assert sorted(hooks["flaky"].alert_ids()) == sorted(hooks["good"].alert_ids())
        for a in hooks["good"].alert_ids():
            assert states[("good", a)] == ("delivered", 1)
            assert states[("flaky", a)][0] == "delivered"
            assert states[("dead", a)] == ("failed", 2)
            assert ("critical-only", a) not in states
        dispatcher.request_stop()
        task.result(30)

        # A restarted dispatcher re-reads nothing it finished and delivers nothing twice.
        before = len(hooks["good"].requests)
        dispatcher, task = run_dispatcher()
        loop.run(publish([_alert(2), _alert(4)]))
        deadline = time.monotonic() + 30
        while _alert(4).alert_id not in hooks["good"].alert_ids() and time.monotonic() < deadline:
            time.sleep(0.05)
        # A barrier: the provider's alerts share a partition, read in order, so a second
        # delivery of alert 2 would come before alert 5's.
        loop.run(publish([_alert(5)]))
        while _alert(5).alert_id not in hooks["good"].alert_ids() and time.monotonic() < deadline:
            time.sleep(0.05)
        delivered = hooks["good"].alert_ids()
        assert [delivered.count(_alert(n).alert_id) for n in (2, 4, 5)] == [1, 1, 1]
        assert len(hooks["good"].requests) == before + 2
        dispatcher.request_stop()
        task.result(30)
    finally:
        if running:
            running[0].request_stop()
            with contextlib.suppress(Exception):
                running[1].result(30)
        loop.run(producer.stop())
        loop.close()
        hung.close()
