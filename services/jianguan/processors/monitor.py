"""Rules checked on the event store, on a timer: each violation row becomes an Alert with a
deterministic id (rule, provider, service, subject), so repeated detections are one alert.

Each alert is published once, when first detected (and again only if its severity changes, an
escalation): the monitor remembers what it published and, after a restart, what the alerts
table holds, so ``jg.alerts.v2`` carries each alert once and its due and detection times stay
those of the first detection."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jianguan.contracts import pb, topics
from jianguan.contracts.facts import add_said
from jianguan.domain.calendar import WorkingCalendar
from jianguan.domain.rules.catalog import BY_ID, CRITICAL, shown
from jianguan.kafka_io.producer import EventLogProducer
from jianguan.processors.produce_id_feed import ProduceIdFeed, open_ledger
from jianguan.store import report_cards
from jianguan.store.alert_records import published_severities
from jianguan.store.checks import CHECKS, Check, Violation, violations
from jianguan.store.executor import ClickHouseUrl, Executor, ServerExecutor

log = logging.getLogger(__name__)
HOUR = 3600
LOOKBACK_S = 7 * 86400  # how far back labeling and minor-mode use are judged
# What a round reads again of the rows the event store took in before the last round: a row's
# ingested_at is stamped when the store reads its record and it becomes visible once the insert
# is accepted, normally seconds later; an insert retried for longer than this (ClickHouse
# refusing inserts while it still answers queries) would leave its rows unjudged. Bounds the
# orphan checks' rounds to a few minutes of rows at any load and after any time; the ProduceID
# ledger's feed counts the rows of these seconds and reads again only those that changed.
INGESTION_MARGIN_S = 300


def check_params(
    check: Check,
    now: float,
    lookback_s: float,
    overrides: Mapping[str, Mapping[str, float]],
    previous: float | None = None,
) -> dict[str, Any]:
    """A check's parameters at ``now``. ``previous``: when the last round ran (None: no round
    before, everything is judged); a check that reads what became judgeable since then reads
    what the event store took in since that round and what matured (its grace ended) since,
    each less INGESTION_MARGIN_S."""
    rule = BY_ID[check.rule_id]
    params: dict[str, Any] = dict(rule.values(overrides.get(check.rule_id)))
    until = int(now // HOUR * HOUR) if check.whole_hours else int(now)
    ingested_since = matured_since = 0
    if previous is not None:
        ingested_since = max(0, int(previous - INGESTION_MARGIN_S))
        # rows whose grace ended since: they occurred that much before
        grace = float(params.get("grace_hours", 0))
        matured_since = max(0, int(ingested_since - grace * HOUR))
    # Nothing before the rule's norm took effect is judged.
    in_force = int(rule.in_force_s)
    since = max(int(now - lookback_s), in_force)
    params.update(
        {
            "since": since,
            "until": until,
            "ingested_since": ingested_since,
            "matured_since": matured_since,
            "in_force": in_force,
        }
    )
    return params


def alerts_of(
    check: Check,
    found: Sequence[Violation],
    params: Mapping[str, Any],
    now: float,
    calendar: WorkingCalendar | None = None,
) -> list[pb.cases_pb2.Alert]:
    rule = BY_ID[check.rule_id]
    # the rule's own parameters as decided with (the window and clock values aside), and the
    # calendar where it counts working days
    used = [(p.name, shown(float(params[p.name]))) for p in rule.params]
    if any(p.unit == "working days" for p in rule.params):
        used.append(("calendar", (calendar or WorkingCalendar()).digest))
    out = []
    for v in found:
        severity = rule.severity
        if check.rule_id == "ART20-OFFSHORE" and v.magnitude >= params["critical_users"]:
            severity = CRITICAL
        a = pb.cases_pb2.Alert(
            alert_id=f"{rule.id}:{v.provider_id}:{v.service_id}:{v.subject}",
            rule_id=rule.id,
            article=rule.article.ref,
            severity=severity,
            provider_id=v.provider_id,
            service_id=v.service_id,
            summary=f"{rule.title}: {v.summary} ({rule.article.ref})",
            evidence=list(v.evidence),
        )
        a.due.FromSeconds(int(now))
        a.detected_at.FromSeconds(int(now))
        a.parameters.extend(pb.cases_pb2.Parameter(name=n, value=v) for n, v in used)
        add_said(a, v.said)
        out.append(a)
    return out


def unpublished(
    alerts: Sequence[pb.cases_pb2.Alert], published: Mapping[str, str]
) -> list[pb.cases_pb2.Alert]:
    """The alerts not published yet, or published with another severity; each id once."""
    out: dict[str, pb.cases_pb2.Alert] = {}
    for a in alerts:
        if published.get(a.alert_id) != a.severity and a.alert_id not in out:
            out[a.alert_id] = a
    return list(out.values())


def published_alerts(executor: Executor) -> dict[str, str]:
    """alert id → severity of the store-check alerts already in the alerts table."""
    return published_severities(executor, (c.rule_id for c in CHECKS))


def run_checks(
    executor: Executor,
    now: float,
    lookback_s: float = LOOKBACK_S,
    overrides: Mapping[str, Mapping[str, float]] | None = None,
    calendar: WorkingCalendar | None = None,
    previous: float | None = None,
    feed: ProduceIdFeed | None = None,
) -> list[pb.cases_pb2.Alert]:
    """Every check's alerts at ``now``. ``feed``: the ProduceID ledger's feed, kept from round to
    round (None: a ledger of this call alone, fed with everything the event store holds, as
    replay needs)."""
    feed = feed or ProduceIdFeed({}, INGESTION_MARGIN_S)
    alerts = []
    for check in CHECKS:
        params = check_params(check, now, lookback_s, overrides or {}, previous)
        if check.ledger:
            reused = feed.round(executor, now, params["in_force"])
            if not reused:
                continue
            params["reused"] = sorted(reused)
        found = violations(executor, check, params, now, calendar or WorkingCalendar())
        if check.ledger:
            feed.found({(v.provider_id, v.subject.removeprefix("ProduceID ")) for v in found})
        alerts += alerts_of(check, found, params, now, calendar)
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
        ledger_path: Path | None = None,
    ) -> None:
        self._calendar = calendar
        # The ProduceID ledger: on disk (RocksDB) when given a path, else in memory.
        self._ledger_path = ledger_path
        self._ledger: Any = None
        self._feed = ProduceIdFeed({}, INGESTION_MARGIN_S)
        self._url = url
        self._overrides = overrides or {}
        self._interval_s = interval_s
        self._topic = topics.topic_name(topics.ALERTS, namespace)
        self._producer = EventLogProducer(bootstrap, self._topic, self._topic)
        self._stopping = asyncio.Event()
        # alert id → severity published; None until read from the alerts table
        self._published: dict[str, str] | None = None
        # when the last round that succeeded ran; the first round reads a lookback's arrivals
        self._previous = time.time() - LOOKBACK_S

    async def start(self) -> None:
        if self._ledger_path is not None:
            self._ledger = open_ledger(self._ledger_path)
            self._feed = ProduceIdFeed(self._ledger, INGESTION_MARGIN_S)
        await self._producer.start()

    def request_stop(self) -> None:
        self._stopping.set()

    def _check_once(self) -> tuple[float, list[pb.cases_pb2.Alert]]:
        """When this round ran, and its alerts that were not published yet; records the round's
        report cards (``store.report_cards``) on the way."""
        ex = ServerExecutor(self._url)
        try:
            if self._published is None:
                self._published = published_alerts(ex)
            now = time.time()
            found = run_checks(
                ex,
                now,
                overrides=self._overrides,
                calendar=self._calendar,
                previous=self._previous,
                feed=self._feed,
            )
            try:  # the grades the console shows, as of this round; never at the alerts' cost
                report_cards.snapshot(ex, now)
            except Exception as exc:
                log.warning("report cards of this round not recorded: %s", exc)
        finally:
            ex.close()
        return now, unpublished(found, self._published)

    async def run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    now, found = await asyncio.to_thread(self._check_once)
                    by_provider: dict[str, list[pb.cases_pb2.Alert]] = {}
                    for a in found:
                        by_provider.setdefault(a.provider_id, []).append(a)
                    sent = True
                    for provider, raised in sorted(by_provider.items()):
                        value = pb.cases_pb2.Alerts(alerts=raised).SerializeToString()
                        if await self._producer.send(self._topic, provider.encode(), value, []):
                            assert self._published is not None
                            self._published.update((a.alert_id, a.severity) for a in raised)
                        else:
                            sent = False
                    if sent:  # else the next round reads the same arrivals again
                        self._previous = now
                        self._feed.settle()
                except Exception as exc:  # a failed round is retried next round
                    log.warning("store checks failed: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._interval_s)
        finally:
            await self._producer.stop()
            if self._ledger is not None:
                self._ledger.close()
                self._ledger = None
