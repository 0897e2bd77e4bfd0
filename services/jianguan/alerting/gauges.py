"""Compliance gauges for Prometheus, refreshed from the alert projection: recent alerts by rule
and provider (what the Prometheus alerting rules in deploy/prometheus/ fire on). Open and
overdue cases are counted by the rules themselves (``processors.rules``), from their state: a
query over every case fact every few seconds grew with the history."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from prometheus_client import Gauge

from jianguan import metrics
from jianguan.store.alert_records import recent_alerts
from jianguan.store.executor import ClickHouseUrl, ServerExecutor

log = logging.getLogger(__name__)


def _publish(
    gauge: Gauge, values: dict[tuple[str, ...], float], known: set[tuple[str, ...]]
) -> None:
    """Set every label set seen now; remove the ones that vanished (a closed case's article)."""
    for labels, value in values.items():
        gauge.labels(*labels).set(value)
    for gone in known - set(values):
        with contextlib.suppress(KeyError):
            gauge.remove(*gone)
    known.clear()
    known.update(values)


class ComplianceGauges:
    def __init__(self, url: ClickHouseUrl, interval_s: float = 5.0) -> None:
        self._url = url
        self._interval_s = interval_s
        self._stopping = asyncio.Event()
        self._known: set[tuple[str, ...]] = set()  # the alert label sets published last

    async def start(self) -> None:
        return None

    def request_stop(self) -> None:
        self._stopping.set()

    def refresh(self) -> None:
        with ServerExecutor(self._url) as ex:
            alerts = recent_alerts(ex)
        _publish(
            metrics.ALERTS_RECENT,
            {(a.rule_id, a.article, a.severity, a.provider_id): a.count for a in alerts},
            self._known,
        )

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.to_thread(self.refresh)
            except Exception as exc:  # retried next round
                log.warning("refreshing compliance gauges failed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval_s)
