"""Configuration from the environment: the only module that reads environment variables."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jianguan.domain.calendar import WorkingCalendar
from jianguan.domain.rules.catalog import check_overrides
from jianguan.gateway.fairness import FairnessLimits


def _partitions(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 1000:
        raise ValueError(f"JIANGUAN_PARTITIONS must be a number from 1 to 1000, got {text!r}")
    return int(text)


def _dates(text: str) -> frozenset[date]:
    return frozenset(date.fromisoformat(d.strip()) for d in text.split(",") if d.strip())


@dataclass(frozen=True, slots=True)
class Settings:
    state_dir: Path
    kafka: str | None
    kafka_provider_bootstrap: str | None
    kafka_port: int
    kafka_provider_port: int
    # The embedded ClickHouse's native and HTTP ports (0: chosen once, then kept).
    clickhouse_tcp_port: int
    clickhouse_http_port: int
    clickhouse_url: str | None
    database: str
    gateway_host: str
    gateway_port: int
    gateway_fairness: FairnessLimits
    # Gateway processes sharing the providers' traffic: each grants 1/N of every provider's rate.
    gateway_replicas: int
    # The memory of accepted event ids each ingest process keeps to answer DUPLICATE
    # (domain.dedup): at most this many ids and this many MiB, the oldest forgotten first.
    dedup_ids: int
    dedup_max_mb: int
    metrics_port: int
    # The address every service's metrics endpoint binds (127.0.0.1: this machine only;
    # 0.0.0.0 for a Prometheus elsewhere).
    metrics_host: str
    # Logs of a service process (runtime.logs): level, text or json, and the folder of its
    # rotating log file (unset: stderr), each file at most log_max_mb MiB, log_backups kept.
    log_level: str
    log_format: str
    log_dir: Path | None
    log_max_mb: int
    log_backups: int
    providers_file: Path
    tls_cert: Path | None
    tls_key: Path | None
    tls_client_ca: Path | None
    topic_namespace: str
    # Partitions of the platform's topics when `prepare` / `up` create them; a service uses the
    # count the existing events topic has (contracts.topics.PARTITIONS by default).
    partitions: int
    faust_web_port: int
    faust_store: str
    # This process's name among the rules workers (`processors`, `rules-2` …): its state's
    # directory.
    rules_worker: str
    rule_overrides: dict[str, dict[str, float]]
    rule_tick_seconds: float
    # Deadlines run on each provider's event time while it reports (domain.watermark): on the
    # wall clock after it has been silent this long, and never more than max_delay behind it.
    rule_idle_seconds: float
    rule_max_delay_seconds: float
    check_interval_seconds: float
    # Scheduling priority the rules process lowers itself by (nice increment): under CPU pressure
    # accepting and storing events comes first; the rules catch up from the log afterwards.
    processors_nice: int
    # faust workers sharing the rules' partitions (one process each): `up` runs the first as
    # `processors` (with the store checks and the inbound validator) and the others as
    # `rules-2` … `rules-N`, so the rules can use more than one core. One by default: on two
    # cores a second one took CPU from ingest and gained nothing (docs/capacity.md).
    rules_workers: int
    calendar: WorkingCalendar
    # Where alerts go (``alerting.config`` reads the file); the console's address for evidence
    # links; and the environment as read, for the secrets the file names (``secret_env``).
    alert_receivers_file: Path | None
    console_url: str
    environment: Mapping[str, str]
    gauge_interval_seconds: float
    regulators_file: Path
    console_host: str
    console_port: int
    console_clickhouse_url: str | None
    console_secure_cookies: bool

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        state = Path(env.get("JIANGUAN_STATE_DIR", "var"))

        def path(name: str) -> Path | None:
            return Path(env[name]) if env.get(name) else None

        return cls(
            state_dir=state,
            kafka=env.get("JIANGUAN_KAFKA") or None,
            # The embedded broker's listeners: internal (platform) and SASL/SCRAM (providers);
            # 0 picks free ports once and keeps them in the state directory.
            # With JIANGUAN_KAFKA: the listeners providers reach (SASL/SCRAM), as printed to them.
            kafka_provider_bootstrap=env.get("JIANGUAN_KAFKA_PROVIDER_BOOTSTRAP") or None,
            kafka_port=int(env.get("JIANGUAN_KAFKA_PORT", "0")),
            kafka_provider_port=int(env.get("JIANGUAN_KAFKA_PROVIDER_PORT", "0")),
            clickhouse_tcp_port=int(env.get("JIANGUAN_CLICKHOUSE_TCP_PORT", "0")),
            clickhouse_http_port=int(env.get("JIANGUAN_CLICKHOUSE_HTTP_PORT", "0")),
            clickhouse_url=env.get("JIANGUAN_CLICKHOUSE_URL") or None,
            database=env.get("JIANGUAN_DATABASE", "jianguan"),
            gateway_host=env.get("JIANGUAN_GATEWAY_HOST", "127.0.0.1"),
            gateway_port=int(env.get("JIANGUAN_GATEWAY_PORT", "50051")),
            # Per provider and gateway process: open Publish streams, batches in flight, and how
            # long a rate-limited batch keeps its slot (jianguan.gateway.fairness).
            gateway_fairness=FairnessLimits(
                max_streams=int(env.get("JIANGUAN_GATEWAY_MAX_STREAMS", "16")),
                max_in_flight=int(env.get("JIANGUAN_GATEWAY_MAX_IN_FLIGHT", "8")),
                rate_limited_hold_s=float(env.get("JIANGUAN_GATEWAY_RATE_LIMITED_HOLD_S", "1")),
                refusal_delay_s=float(env.get("JIANGUAN_GATEWAY_REFUSAL_DELAY_S", "5")),
                unauthenticated_delay_s=float(
                    env.get("JIANGUAN_GATEWAY_UNAUTHENTICATED_DELAY_S", "1")
                ),
            ),
            gateway_replicas=max(1, int(env.get("JIANGUAN_GATEWAY_REPLICAS", "1"))),
            dedup_ids=max(1, int(env.get("JIANGUAN_DEDUP_IDS", "2000000"))),
            dedup_max_mb=max(1, int(env.get("JIANGUAN_DEDUP_MAX_MB", "512"))),
            metrics_port=int(env.get("JIANGUAN_METRICS_PORT", "9464")),
            metrics_host=env.get("JIANGUAN_METRICS_HOST", "127.0.0.1"),
            log_level=_choice("JIANGUAN_LOG_LEVEL", env, "INFO", LOG_LEVELS),
            log_format=_choice("JIANGUAN_LOG_FORMAT", env, "text", ("text", "json")),
            log_dir=path("JIANGUAN_LOG_DIR"),
            log_max_mb=max(1, int(env.get("JIANGUAN_LOG_MAX_MB", "50"))),
            log_backups=max(0, int(env.get("JIANGUAN_LOG_BACKUPS", "5"))),
            providers_file=Path(env.get("JIANGUAN_PROVIDERS_FILE", str(state / "providers.toml"))),
            tls_cert=path("JIANGUAN_TLS_CERT"),
            tls_key=path("JIANGUAN_TLS_KEY"),
            tls_client_ca=path("JIANGUAN_TLS_CLIENT_CA"),
            topic_namespace=env.get("JIANGUAN_TOPIC_NAMESPACE", ""),
            partitions=_partitions(env.get("JIANGUAN_PARTITIONS", "6")),
            faust_web_port=int(env.get("JIANGUAN_FAUST_WEB_PORT", "6066")),
            # rocksdb:// keeps the rules' state on disk (memory stays flat however long the
            # history); memory:// keeps it in the process.
            faust_store=env.get("JIANGUAN_FAUST_STORE", "rocksdb://"),
            rules_worker=env.get("JIANGUAN_RULES_WORKER", "processors"),
            # e.g. {"ART14-ILLEGAL-CONTENT": {"disposal_hours": 2}}; see `jianguan rules list`
            rule_overrides=_rule_overrides(env.get("JIANGUAN_RULE_OVERRIDES") or "{}"),
            rule_tick_seconds=float(env.get("JIANGUAN_RULE_TICK_SECONDS", "1")),
            rule_idle_seconds=float(env.get("JIANGUAN_RULE_IDLE_SECONDS", "10")),
            rule_max_delay_seconds=float(env.get("JIANGUAN_RULE_MAX_DELAY_SECONDS", "30")),
            check_interval_seconds=float(env.get("JIANGUAN_CHECK_INTERVAL_SECONDS", "60")),
            processors_nice=int(env.get("JIANGUAN_PROCESSORS_NICE", "10")),
            rules_workers=max(1, int(env.get("JIANGUAN_RULES_WORKERS", "1"))),
            # Public holidays and the weekend days declared working days (调休), ISO dates,
            # comma-separated; published by the State Council each year.
            calendar=WorkingCalendar(
                holidays=_dates(env.get("JIANGUAN_HOLIDAYS", "")),
                workdays=_dates(env.get("JIANGUAN_WORKDAYS", "")),
            ),
            # Webhooks and Alertmanager to deliver alerts to (see jianguan.alerting.config).
            alert_receivers_file=path("JIANGUAN_ALERT_RECEIVERS_FILE"),
            console_url=env.get("JIANGUAN_CONSOLE_URL", "http://127.0.0.1:8080"),
            environment=dict(env),
            gauge_interval_seconds=float(env.get("JIANGUAN_GAUGE_INTERVAL_SECONDS", "5")),
            # Regulator accounts of the console (scrypt hashes; `jianguan regulators add`).
            regulators_file=Path(
                env.get("JIANGUAN_REGULATORS_FILE", str(state / "regulators.toml"))
            ),
            console_host=env.get("JIANGUAN_CONSOLE_HOST", "127.0.0.1"),
            console_port=int(env.get("JIANGUAN_CONSOLE_PORT", "8080")),
            # The read-only ClickHouse user the console queries with.
            console_clickhouse_url=env.get("JIANGUAN_CONSOLE_CLICKHOUSE_URL") or None,
            # Set when the console is served over HTTPS (behind a TLS-terminating proxy).
            console_secure_cookies=env.get("JIANGUAN_CONSOLE_SECURE_COOKIES", "") == "1",
        )


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _choice(name: str, env: Mapping[str, str], default: str, allowed: Sequence[str]) -> str:
    value = env.get(name, default).strip()
    for a in allowed:
        if value.lower() == a.lower():
            return a
    raise SettingsError(f"{name}={value!r}: use one of {', '.join(allowed)}")


class SettingsError(ValueError):
    """A setting that cannot be used; the message names it."""


def _rule_overrides(text: str) -> dict[str, dict[str, float]]:
    try:
        return check_overrides(json.loads(text))
    except ValueError as exc:  # also malformed JSON
        raise SettingsError(f"JIANGUAN_RULE_OVERRIDES: {exc}") from None
