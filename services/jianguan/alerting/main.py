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
from jianguan.runtime.entry import servers
from jianguan.runtime.loops import run_all
from jianguan.runtime.signals import stop_event
from jianguan.settings import Settings


def receivers(settings: Settings) -> AlertingConfig:
    """The receivers of JIANGUAN_ALERT_RECEIVERS_FILE (none without it); raises ConfigError
    naming the setting and what is wrong with the file (unreadable included)."""
    if settings.alert_receivers_file is None:
        return AlertingConfig(settings.console_url.rstrip("/"), ())
    try:
        text = settings.alert_receivers_file.read_text(encoding="utf-8")
        return parse(text, settings.environment, settings.console_url)
    except (ConfigError, OSError) as exc:
        raise ConfigError(f"JIANGUAN_ALERT_RECEIVERS_FILE: {exc}") from exc


def run(settings: Settings) -> int:
    given = servers(settings)
    if given is None:
        return 2
    try:
        config = receivers(settings)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    kafka, url = given

    async def main() -> None:
        dispatcher = Dispatcher(kafka, url, config, settings.topic_namespace)
        gauges = ComplianceGauges(url, settings.gauge_interval_seconds)
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
        stop = stop_event()
        await run_all({"dispatcher": dispatcher, "gauges": gauges}, stop)

    asyncio.run(main())
    return 0
