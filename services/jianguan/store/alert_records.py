"""What the alerting process and the store checks keep and read in the store about alerts:
the delivery state of each (receiver, alert) in ``alert_deliveries`` (migration 0010), the
alerts raised in the last day, and the store checks' alerts already published. Named rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields

from jianguan.domain.rules.demands import CONFIDENTIAL_RULES
from jianguan.store.executor import Executor

# Delivery states as stored.
DELIVERED, RETRYING, FAILED = 1, 2, 3
FINISHED = (DELIVERED, FAILED)


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """One state change of one (receiver, alert) delivery; the newest ``version`` wins."""

    receiver: str
    alert_id: str  # the delivery key: the alert id, or the id of its withdrawal
    provider_id: str
    rule_id: str
    state: int
    attempts: int
    last_error: str
    updated_at: int
    version: int


DELIVERY_COLUMNS = tuple(f.name for f in fields(DeliveryState))


def record_deliveries(executor: Executor, states: Sequence[DeliveryState]) -> None:
    rows = [astuple(s) for s in states]
    executor.insert_columns(
        "alert_deliveries", DELIVERY_COLUMNS, [list(col) for col in zip(*rows, strict=True)]
    )


def finished_deliveries(executor: Executor) -> set[tuple[str, str]]:
    """(receiver, delivery key) of every delivery delivered or given up on."""
    rows = executor.execute(
        "SELECT receiver, alert_id FROM alert_deliveries FINAL WHERE state IN %(finished)s",
        {"finished": FINISHED},
    )
    return {(str(r), str(a)) for r, a in rows}


@dataclass(frozen=True, slots=True)
class RecentAlerts:
    rule_id: str
    article: str
    severity: str
    provider_id: str
    count: int


def recent_alerts(executor: Executor) -> list[RecentAlerts]:
    """Alerts standing (not withdrawn) raised in the last day, counted by rule, article,
    severity and provider; none confidential to one authority (Art. 19 ¶2: Prometheus and its
    receivers are everyone's; the dispatcher sends those to their authority's receivers)."""
    rows = executor.execute(
        "SELECT rule_id, article, severity, provider_id, count() FROM alerts FINAL"
        " WHERE retracted = 0 AND detected_at >= now() - 86400 AND rule_id NOT IN %(c)s"
        " GROUP BY rule_id, article, severity, provider_id",
        {"c": CONFIDENTIAL_RULES},
    )
    return [RecentAlerts(str(r), str(a), str(s), str(p), int(n)) for r, a, s, p, n in rows]


def published_severities(executor: Executor, rule_ids: Iterable[str]) -> dict[str, str]:
    """Alert id → latest severity of the alerts of ``rule_ids`` already in the alerts table."""
    rows = executor.execute(
        "SELECT alert_id, argMax(severity, detected_at) FROM alerts"
        " WHERE rule_id IN %(rules)s GROUP BY alert_id",
        {"rules": tuple(sorted(set(rule_ids)))},
    )
    return {str(alert_id): str(severity) for alert_id, severity in rows}


@dataclass(frozen=True, slots=True)
class StandingAlert:
    provider_id: str
    rule_id: str
    alert_id: str


def standing_alerts(executor: Executor, providers: Sequence[str]) -> list[StandingAlert]:
    """The alerts not withdrawn of ``providers``."""
    rows = executor.execute(
        "SELECT provider_id, rule_id, alert_id FROM alerts FINAL"
        " WHERE retracted = 0 AND provider_id IN %(p)s",
        {"p": tuple(providers) or ("",)},
    )
    return [StandingAlert(str(p), str(r), str(a)) for p, r, a in rows]


def offshore_alert_evidence(executor: Executor) -> set[str]:
    """The event ids the standing offshore alerts (Art. 20, of no provider) cite."""
    rows = executor.execute(
        "SELECT evidence FROM alerts FINAL"
        " WHERE retracted = 0 AND provider_id = '' AND rule_id = 'ART20-OFFSHORE'"
    )
    return {str(event_id) for (evidence,) in rows for event_id in evidence}
