"""The alerting process (`python -m jianguan.alerting`, what `up` runs): the alert dispatcher
(jg.alerts.v2 → receivers) and the compliance gauges, metrics on JIANGUAN_METRICS_PORT; runs until
SIGINT or SIGTERM, then drains."""

from __future__ import annotations

import asyncio
import sys

from prometheus_client import start_http_server

from jianguan.alerting.config import AlertingConfig, ConfigError, parse
from jianguan.alerting.dispatcher import Dispatcher
from jianguan.alerting.gauges import ComplianceGauges
from jianguan.runtime.loops import run_all
from jianguan.runtime.signals import stop_event
from jianguan.settings import Settings
from jianguan.store.executor import ClickHouseUrl


def receivers(settings: Settings) -> AlertingConfig:
    """The receivers of JIANGUAN_ALERT_RECEIVERS_FILE (none without it); raises ConfigError
    naming what is wrong, OSError when the file cannot be read."""
    if settings.alert_receivers_file is None:
        return AlertingConfig(settings.console_url.rstrip("/"), ())
    text = settings.alert_receivers_file.read_text(encoding="utf-8")
    return parse(text, settings.environment, settings.console_url)


def run(settings: Settings) -> int:
    if not settings.kafka or not settings.clickhouse_url:
        print("error: JIANGUAN_KAFKA and JIANGUAN_CLICKHOUSE_URL must be set", file=sys.stderr)
        return 2
    try:
        config = receivers(settings)
    except (ConfigError, OSError) as exc:
        print(f"error: JIANGUAN_ALERT_RECEIVERS_FILE: {exc}", file=sys.stderr)
        return 2
    url = ClickHouseUrl.parse(settings.clickhouse_url)
    kafka = settings.kafka

    async def main() -> None:
        dispatcher = Dispatcher(kafka, url, config, settings.topic_namespace)
        gauges = ComplianceGauges(url, settings.gauge_interval_seconds)
        start_http_server(settings.metrics_port, addr="127.0.0.1")
        stop = stop_event()
        await run_all({"dispatcher": dispatcher, "gauges": gauges}, stop)

    asyncio.run(main())
    return 0
