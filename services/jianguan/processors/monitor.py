"""Rules checked on the event store, on a timer: each violation row becomes an Alert with a
deterministic id (rule, provider, service, subject), so repeated detections are one alert."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from jianguan.contracts import pb, topics
from jianguan.domain.calendar import WorkingCalendar
from jianguan.domain.rules.catalog import BY_ID, CRITICAL
from jianguan.ingest.event_log import EventLogProducer
from jianguan.store.checks import CHECKS, Check
from jianguan.store.executor import ClickHouseUrl, Executor, ServerExecutor

log = logging.getLogger(__name__)
HOUR = 3600


def check_params(
    rule_id: str, now: float, lookback_s: float, overrides: Mapping[str, Mapping[str, float]]
) -> dict[str, Any]:
    rule = BY_ID[rule_id]
    params: dict[str, Any] = {p.name: p.default for p in rule.params}
    params.update(overrides.get(rule_id, {}))
    # Only completed hours are judged, so an hour's share does not flap while it fills.
    until = int(now // HOUR * HOUR) if rule_id == "ART12-LABELING" else int(now)
    params.update({"since": int(now - lookback_s), "until": until})
    return params


def alerts_from_rows(
    check: Check, rows: Sequence[Sequence[Any]], params: Mapping[str, Any], now: float
) -> list[pb.cases_pb2.Alert]:
    rule = BY_ID[check.rule_id]
    out = []
    for provider_id, service_id, subject, magnitude, summary, evidence in rows:
        severity = rule.severity
        if check.rule_id == "ART20-OFFSHORE" and magnitude >= params["critical_users"]:
            severity = CRITICAL
        a = pb.cases_pb2.Alert(
            alert_id=f"{rule.id}:{provider_id}:{service_id}:{subject}",
            rule_id=rule.id,
            article=rule.article.ref,
            severity=severity,
            provider_id=provider_id,
            service_id=service_id,
            summary=f"{rule.title}: {summary} ({rule.article.ref})",
            evidence=[str(e) for e in evidence],
        )
        a.due.FromSeconds(int(now))
        a.detected_at.FromSeconds(int(now))
        out.append(a)
    return out


def run_checks(
    executor: Executor,
    now: float,
    lookback_s: float = 7 * 86400,
    overrides: Mapping[str, Mapping[str, float]] | None = None,
    calendar: WorkingCalendar | None = None,
) -> list[pb.cases_pb2.Alert]:
    alerts = []
    for check in CHECKS:
        params = check_params(check.rule_id, now, lookback_s, overrides or {})
        rows = executor.execute(check.sql, params)
        if check.post is not None:
            rows = check.post(rows, params, now, calendar or WorkingCalendar())
        alerts += alerts_from_rows(check, rows, params, now)
    return alerts


class StoreMonitor:
    """Runs every store check each ``interval_s`` and publishes the alerts."""

    def __init__(
        self,
        bootstrap: str,
        url: ClickHouseUrl,
        namespace: str = "",
        overrides: Mapping[str, Mapping[str, float]] | None = None,
        interval_s: float = 30.0,
        calendar: WorkingCalendar | None = None,
    ) -> None:
        self._calendar = calendar
        self._url = url
        self._overrides = overrides or {}
        self._interval_s = interval_s
        self._topic = topics.topic_name(topics.ALERTS, namespace)
        self._producer = EventLogProducer(bootstrap, self._topic, self._topic)
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        await self._producer.start()

    def request_stop(self) -> None:
        self._stopping.set()

    def _check_once(self) -> list[pb.cases_pb2.Alert]:
        ex = ServerExecutor(self._url)
        try:
            return run_checks(ex, time.time(), overrides=self._overrides, calendar=self._calendar)
        finally:
            ex.close()

    async def run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    for a in await asyncio.to_thread(self._check_once):
                        key = a.provider_id.encode()
                        await self._producer.send(self._topic, key, a.SerializeToString(), [])
                except Exception as exc:  # a failed round is retried next round
                    log.warning("store checks failed: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._interval_s)
        finally:
            await self._producer.stop()
