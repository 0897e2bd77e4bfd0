"""The whole platform on one machine: broker, ClickHouse, migrations, gateway, event-store sink.

Existing servers can be used instead of the embedded ones (``kafka``, ``clickhouse_url``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import start_http_server

from jianguan.contracts import topics
from jianguan.gateway.server import Gateway, TlsConfig
from jianguan.ingest.registry import ProviderRegistry
from jianguan.runtime.broker import Broker
from jianguan.runtime.clickhouse import ClickHouseServer
from jianguan.runtime.kafka_admin import ensure_topics
from jianguan.store.executor import ClickHouseUrl, ServerExecutor
from jianguan.store.migrate import migrate
from jianguan.store.sink import EventStoreSink
from jianguan.store.writer import EventWriter

log = logging.getLogger(__name__)


@dataclass
class StackConfig:
    state_dir: Path
    registry: ProviderRegistry
    kafka: str | None = None
    clickhouse_url: str | None = None
    database: str = "jianguan"
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 0
    metrics_port: int | None = 0
    tls: TlsConfig | None = None
    topic_namespace: str = ""
    sink_group: str = "jianguan-event-store"


@dataclass
class Stack:
    config: StackConfig
    broker: Broker | None = None
    clickhouse: ClickHouseServer | None = None
    gateway: Gateway | None = None
    sink: EventStoreSink | None = None
    writer_url: ClickHouseUrl | None = None
    dashboard_url: ClickHouseUrl | None = None
    metrics_port: int | None = None
    _sink_task: asyncio.Task[None] | None = None
    _metrics_server: object | None = None
    endpoints: dict[str, str] = field(default_factory=dict)

    @property
    def events_topic(self) -> str:
        return topics.topic_name(topics.EVENTS, self.config.topic_namespace)

    async def start(self) -> None:
        cfg = self.config
        cfg.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            await self._start(cfg)
        except BaseException:
            await self.stop()
            raise

    async def _start(self, cfg: StackConfig) -> None:
        bootstrap = cfg.kafka
        if bootstrap is None:
            self.broker = Broker(cfg.state_dir)
            await asyncio.to_thread(self.broker.start)
            bootstrap = self.broker.bootstrap
        if cfg.clickhouse_url is None:
            self.clickhouse = ClickHouseServer(cfg.state_dir / "clickhouse", cfg.database)
            await asyncio.to_thread(self.clickhouse.start)
            self.writer_url = self.clickhouse.url("writer")
            self.dashboard_url = self.clickhouse.url("dashboard")
        else:
            self.writer_url = ClickHouseUrl.parse(cfg.clickhouse_url)
        writer_url = self.writer_url
        await asyncio.to_thread(
            ensure_topics,
            bootstrap,
            [
                topics.topic_name(t, cfg.topic_namespace)
                for t in (topics.EVENTS, topics.CASES, topics.ALERTS)
            ],
            topics.PARTITIONS,
        )
        await asyncio.to_thread(_migrate, writer_url)
        self.gateway = Gateway(
            cfg.registry, bootstrap, self.events_topic, cfg.gateway_host, cfg.gateway_port, cfg.tls
        )
        await self.gateway.start()
        self.sink = EventStoreSink(
            bootstrap,
            self.events_topic,
            cfg.sink_group,
            lambda: EventWriter(ServerExecutor(writer_url)),
        )
        await self.sink.start()
        self._sink_task = asyncio.create_task(self.sink.run(), name="event-store-sink")
        if cfg.metrics_port is not None:
            server, _thread = start_http_server(cfg.metrics_port, addr="127.0.0.1")
            self._metrics_server = server
            self.metrics_port = int(server.server_port)
        self.endpoints = {
            "gateway (gRPC Ingest, health, reflection)": f"{cfg.gateway_host}:{self.gateway.port}",
            "kafka bootstrap": bootstrap,
            "events topic": self.events_topic,
            "clickhouse (writer)": str(writer_url),
        }
        if self.dashboard_url is not None:
            self.endpoints["clickhouse (read-only dashboard user)"] = str(self.dashboard_url)
        if self.clickhouse is not None:
            self.endpoints["clickhouse http"] = f"http://127.0.0.1:{self.clickhouse.http_port}"
        if self.metrics_port is not None:
            self.endpoints["prometheus metrics"] = f"http://127.0.0.1:{self.metrics_port}/metrics"

    async def stop(self) -> None:
        """Stop in dependency order: no new calls, drain the sink, then the servers."""
        if self.gateway is not None:
            await self.gateway.stop()
            self.gateway = None
        if self.sink is not None and self._sink_task is not None:
            self.sink.request_stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._sink_task, 30)
            self.sink = None
        if self._metrics_server is not None:
            self._metrics_server.shutdown()  # type: ignore[attr-defined]
            self._metrics_server = None
        if self.broker is not None:
            await asyncio.to_thread(self.broker.stop)
            self.broker = None
        if self.clickhouse is not None:
            await asyncio.to_thread(self.clickhouse.stop)
            self.clickhouse = None


def _migrate(url: ClickHouseUrl) -> None:
    executor = ServerExecutor(url, create_database=True)
    try:
        applied = migrate(executor)
        for m in applied:
            log.info("applied migration %04d_%s", m.version, m.name)
    finally:
        executor.close()
