"""The alert dispatcher: jg.alerts.v2 → every receiver that wants each alert.

- Deduplicates: the store checks re-publish a standing violation every round and the rules may
  re-emit after a restart; each (receiver, alert id) is delivered once. Pairs already delivered or
  given up on are loaded from ClickHouse on start.
- Groups: a receiver's alerts arriving within ``group_wait_s`` go out together, one request per
  provider.
- Retries with exponential backoff and full jitter, per receiver, in its own task: a dead endpoint
  delays only its own alerts.
- Records every state change in ``alert_deliveries``; after a receiver's ``max_attempts`` the alert
  is recorded ``failed`` (visible, counted, logged), never dropped silently.
- Commits a record's offset only when every delivery it caused is recorded as finished, so a
  crash re-reads exactly the unfinished ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka import TopicPartition

from jianguan import metrics
from jianguan.alerting.config import AlertingConfig, Receiver
from jianguan.alerting.ledger import OffsetTracker, Seen, delivery_key
from jianguan.alerting.payload import alertmanager_body, webhook_body
from jianguan.alerting.signing import new_delivery_id, signed_headers
from jianguan.contracts import pb, topics
from jianguan.domain.rules.demands import confidential_to
from jianguan.kafka_io.consumer_loop import ConsumerLoop, DeadLetterTopic, Poison
from jianguan.kafka_io.producer import EventLogProducer
from jianguan.store.alert_records import (
    DELIVERED,
    FAILED,
    RETRYING,
    DeliveryState,
    finished_deliveries,
    record_deliveries,
)
from jianguan.store.executor import ClickHouseUrl, ServerExecutor

log = logging.getLogger(__name__)
Alert = pb.cases_pb2.Alert
Post = Callable[[str, bytes, dict[str, str], float], Awaitable[None]]


class DeliveryError(Exception):
    pass


async def http_post(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> None:
    """POST ``body``; raises ``DeliveryError`` unless the answer is 2xx."""

    def post() -> None:
        req = urllib.request.Request(  # noqa: S310 (receivers' URLs are http(s), checked on load)
            url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as resp:  # noqa: S310
                resp.read()
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"HTTP {exc.code} from {url}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(f"{url}: {exc}") from exc

    await asyncio.to_thread(post)


@dataclass(slots=True)
class _Item:
    alert: Alert
    partition: int
    offset: int


class DeliveryRecorder:
    """Writes delivery state rows to ClickHouse, retrying until it succeeds."""

    def __init__(self, url: ClickHouseUrl) -> None:
        self._url = url

    def load_finished(self) -> set[tuple[str, str]]:
        with ServerExecutor(self._url) as ex:
            return finished_deliveries(ex)

    async def record(
        self, receiver: str, alerts: list[Alert], state: int, attempts: int, error: str
    ) -> None:
        now = time.time()
        states = [
            DeliveryState(
                receiver, delivery_key(a), a.provider_id, a.rule_id, state, attempts,
                error[:500], int(now), time.time_ns(),
            )
            for a in alerts
        ]  # fmt: skip
        delay = 0.5
        while True:
            try:
                await asyncio.to_thread(self._insert, states)
                return
            except Exception as exc:
                log.warning("recording deliveries failed (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    def _insert(self, states: list[DeliveryState]) -> None:
        with ServerExecutor(self._url) as ex:
            record_deliveries(ex, states)


class ReceiverWorker:
    """Delivers one receiver's alerts in groups, retrying; reports each finished item."""

    def __init__(
        self,
        receiver: Receiver,
        console_url: str,
        post: Post,
        recorder: DeliveryRecorder,
        finished: Callable[[_Item], None],
        group_wait_s: float,
    ) -> None:
        self.receiver = receiver
        self.queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._console_url = console_url
        self._post = post
        self._recorder = recorder
        self._finished = finished
        self._group_wait_s = group_wait_s

    def _gauge(self) -> None:
        metrics.ALERT_QUEUE.labels(self.receiver.name).set(self.queue.qsize())

    async def run(self) -> None:
        while True:
            items = [await self.queue.get()]
            deadline = time.monotonic() + self._group_wait_s
            while len(items) < 200:
                try:
                    async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                        items.append(await self.queue.get())
                except TimeoutError:
                    break
            self._gauge()
            by_provider: dict[str, list[_Item]] = {}
            for item in items:
                by_provider.setdefault(item.alert.provider_id, []).append(item)
            for group in by_provider.values():
                await self._deliver(group)
            self._gauge()

    def _request(self, alerts: list[Alert], delivery_id: str) -> tuple[str, bytes, dict[str, str]]:
        r = self.receiver
        if r.kind == "alertmanager":
            return f"{r.url}/api/v2/alerts", alertmanager_body(self._console_url, alerts), {}
        body = webhook_body(r.name, self._console_url, alerts)
        return r.url, body, signed_headers(r.secret, int(time.time()), body, delivery_id)

    async def _deliver(self, group: list[_Item]) -> None:
        r = self.receiver
        alerts = [i.alert for i in group]
        attempt, state, error = 0, FAILED, ""
        delivery = new_delivery_id()  # one per delivery: its retries repeat it
        while attempt < r.max_attempts:
            attempt += 1
            url, body, headers = self._request(alerts, delivery)  # a fresh timestamp each time
            try:
                await self._post(url, body, headers, r.timeout_s)
                state, error = DELIVERED, ""
                break
            except Exception as exc:
                error = str(exc)
                metrics.ALERT_DELIVERIES.labels(r.name, "retried").inc()
                log.warning("delivery to %s failed (attempt %d): %s", r.name, attempt, error)
                if attempt == 1:
                    await self._recorder.record(r.name, alerts, RETRYING, attempt, error)
                if attempt < r.max_attempts:
                    cap = min(r.max_delay_s, r.base_delay_s * 2 ** (attempt - 1))
                    await asyncio.sleep(random.uniform(0, cap))
        await self._recorder.record(r.name, alerts, state, attempt, error)
        if state == DELIVERED:
            metrics.ALERT_DELIVERIES.labels(r.name, "delivered").inc(len(alerts))
            now = time.time()
            for a in alerts:
                metrics.ALERT_DELIVERY_SECONDS.labels(r.name).observe(
                    max(0.0, now - a.detected_at.seconds)
                )
        else:
            metrics.ALERT_DELIVERIES.labels(r.name, "failed").inc(len(alerts))
            log.error(
                "gave up delivering %d alerts to %s after %d attempts: %s",
                len(alerts), r.name, attempt, error,
            )  # fmt: skip
        for item in group:
            self._finished(item)


class Dispatcher:
    def __init__(
        self,
        bootstrap: str,
        url: ClickHouseUrl,
        config: AlertingConfig,
        namespace: str = "",
        group: str = "jianguan-alerting",
        group_wait_s: float = 0.5,
        post: Post = http_post,
    ) -> None:
        self._topic = topics.topic_name(topics.ALERTS, namespace)
        self._config = config
        self._recorder = DeliveryRecorder(url)
        self._offsets = OffsetTracker()
        self._seen = Seen()
        self._raised: set[str] = set()
        self._workers = [
            ReceiverWorker(r, config.console_url, post, self._recorder, self._finish, group_wait_s)
            for r in config.receivers
        ]
        self._dead_letters = EventLogProducer(bootstrap)
        self.loop = ConsumerLoop(
            "alert-dispatcher",
            bootstrap,
            group,
            [self._topic],
            self,
            DeadLetterTopic(self._dead_letters, topics.topic_name(topics.DEAD_LETTERS, namespace)),
            poll_ms=200,
            max_records=500,
        )

    def _finish(self, item: _Item) -> None:
        self._offsets.finish(item.partition, item.offset)

    async def start(self) -> None:
        finished = await asyncio.to_thread(self._recorder.load_finished)
        self._seen = Seen(finished)
        self._raised = {alert_id for _, alert_id in finished}
        await self._dead_letters.start()
        await self.loop.start()

    def request_stop(self) -> None:
        self.loop.request_stop()

    async def run(self) -> None:
        tasks = [
            asyncio.create_task(w.run(), name=f"alerts-{w.receiver.name}") for w in self._workers
        ]
        try:
            await self.loop.run()
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t
            await self._dead_letters.stop()

    # -- the strategy of the consumer loop ---------------------------------------------------

    async def submit(self, record: Any) -> None:
        try:
            alerts = pb.cases_pb2.Alerts.FromString(record.value or b"").alerts
        except Exception as exc:
            raise Poison(f"not a jianguan.v1.Alerts record: {exc}") from exc
        self._route(record.partition, record.offset, alerts)

    def skip(self, record: Any) -> None:
        self._offsets.add(record.partition, record.offset, 0)

    def committable(self) -> Mapping[TopicPartition, int]:
        moved = self._offsets.committable()
        return {TopicPartition(self._topic, p): o for p, o in moved.items()}

    async def flush(self) -> None:
        pass  # deliveries carry on; only what they finished is committed

    async def poll(self) -> None:
        pass

    def _route(self, partition: int, offset: int, alerts: Iterable[Alert]) -> None:
        deliveries: list[tuple[ReceiverWorker, Alert]] = []
        for alert in alerts:
            secret = confidential_to(alert.case_id)
            if not alert.retracted and alert.alert_id not in self._raised:
                self._raised.add(alert.alert_id)
                metrics.ALERTS_RAISED.labels(alert.rule_id, alert.severity).inc()
            deliveries += [
                (w, alert)
                for w in self._workers
                if w.receiver.wants(alert.severity, alert.provider_id, secret)
                and self._claim(w, alert)
            ]
        # The record's offset is committed once every delivery it caused has finished.
        self._offsets.add(partition, offset, len(deliveries))
        for w, alert in deliveries:
            w.queue.put_nowait(_Item(alert, partition, offset))

    def _claim(self, w: ReceiverWorker, alert: Alert) -> bool:
        """An alert goes to a receiver once; its withdrawal once, and only where the alert
        went."""
        name = w.receiver.name
        if not alert.retracted:
            return self._seen.claim(name, alert.alert_id)
        return self._seen.claimed(name, alert.alert_id) and self._seen.claim(
            name, delivery_key(alert)
        )
