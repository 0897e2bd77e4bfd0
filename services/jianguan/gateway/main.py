"""The gateway process (`python -m jianguan.gateway`, what `up` runs as its gateway): the gRPC
gateway on JIANGUAN_GATEWAY_HOST:PORT producing to JIANGUAN_KAFKA, its metrics on
JIANGUAN_METRICS_PORT; runs until SIGINT or SIGTERM, then drains."""

from __future__ import annotations

import asyncio
import sys

from prometheus_client import start_http_server

from jianguan.accounts.registry_watch import RegistryWatcher
from jianguan.gateway.server import Gateway, TlsConfig
from jianguan.runtime.signals import stop_event
from jianguan.settings import Settings
from jianguan.store.executor import ClickHouseUrl
from jianguan.store.reader import recent_ids_loader


def _tls(settings: Settings) -> TlsConfig | None:
    if settings.tls_cert and settings.tls_key:
        return TlsConfig(settings.tls_cert, settings.tls_key, settings.tls_client_ca)
    return None


def run(settings: Settings) -> int:
    if not settings.kafka:
        print("error: JIANGUAN_KAFKA is not set", file=sys.stderr)
        return 2
    # Re-read when `jianguan providers …` changes it: no restart for a provider added or revoked.
    registry = RegistryWatcher(settings.providers_file)
    kafka = settings.kafka
    store = ClickHouseUrl.parse(settings.clickhouse_url) if settings.clickhouse_url else None

    async def main() -> None:
        gateway = Gateway(
            registry,
            kafka,
            settings.topic_namespace,
            settings.gateway_host,
            settings.gateway_port,
            _tls(settings),
            fairness=settings.gateway_fairness,
            replicas=settings.gateway_replicas,
            dedup_capacity=settings.dedup_ids,
            dedup_max_bytes=settings.dedup_max_mb * 2**20,
        )
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
        await gateway.start(recent_ids_loader(store) if store is not None else None)
        stop = stop_event()
        await stop.wait()
        await gateway.stop()

    asyncio.run(main())
    return 0
