"""The whole platform on one machine.

``Infrastructure``: the broker and ClickHouse (embedded, or existing servers), topics, migrations.
``Platform``: infrastructure plus the service processes — the gateway, the store sinks, the
processors (faust worker hosting the rules), alerting and the console — each its own process, so
they use separate cores and a crash of one is contained (the supervisor restarts it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from jianguan.accounts.registry import ProviderRegistry
from jianguan.accounts.regulators import Accounts, add_account
from jianguan.contracts import topics
from jianguan.kafka_io.access import sync_access
from jianguan.kafka_io.admin import ensure_platform_topics
from jianguan.runtime.broker import KafkaCluster
from jianguan.runtime.clickhouse import ClickHouseServer
from jianguan.runtime.logs import log_file
from jianguan.runtime.process import free_port, port_open, reserve, wait_until
from jianguan.runtime.status import ServiceRecord, UpRecord, remove_record, write_record
from jianguan.runtime.supervisor import ServiceSpec, Supervisor
from jianguan.store.executor import ClickHouseUrl
from jianguan.store.migrate import migrate_database

log = logging.getLogger(__name__)
GATEWAY = "gateway"
PROCESSORS = "processors"
STORE = "store"
ALERTING = "alerting"
CONSOLE = "console"


def rules_workers(cfg: StackConfig) -> list[str]:
    """The further rules workers' service names (``rules-2`` …)."""
    return [f"rules-{n}" for n in range(2, cfg.rules_workers + 1)]


class StartError(RuntimeError):
    """A server could not be started or reached; the message names which and why."""


@contextlib.contextmanager
def _step(what: str) -> Iterator[None]:
    try:
        yield
    except StartError:
        raise
    except Exception as exc:
        detail = str(exc).strip() or type(exc).__name__
        raise StartError(f"{what}: {detail}") from exc


@dataclass
class StackConfig:
    state_dir: Path
    providers_file: Path
    kafka: str | None = None
    kafka_port: int = 0  # the embedded broker's internal listener (0: chosen once, then kept)
    kafka_provider_port: int = 0  # its SASL/SCRAM listener for providers
    clickhouse_url: str | None = None
    clickhouse_tcp_port: int = 0  # the embedded ClickHouse's ports (0: chosen once, then kept)
    clickhouse_http_port: int = 0
    database: str = "jianguan"
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 0
    metrics_port: int = 0
    faust_web_port: int = 0
    rules_workers: int = 1  # processes hosting the rules (the first is `processors`)
    topic_namespace: str = ""
    partitions: int = topics.PARTITIONS  # of the platform's topics, when it creates them
    console_host: str = "127.0.0.1"
    console_port: int = 0  # 0: any free port
    regulators_file: Path | None = None  # default: state_dir / "regulators.toml"
    log_level: str = "INFO"  # the services' (runtime.logs); DEBUG with `jianguan -v up`


@dataclass
class Infrastructure:
    config: StackConfig
    broker: KafkaCluster | None = None
    clickhouse: ClickHouseServer | None = None
    bootstrap: str = ""
    writer_url: ClickHouseUrl | None = None
    dashboard_url: ClickHouseUrl | None = None

    def start(self) -> None:
        """Start or reach every server; a failure raises ``StartError`` naming the step."""
        cfg = self.config
        cfg.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            with _step(
                "the embedded Kafka broker" if cfg.kafka is None else f"Kafka at {cfg.kafka}"
            ):
                self._start_kafka(cfg)
            with _step("ClickHouse"):
                if cfg.clickhouse_url is None:
                    self.clickhouse = ClickHouseServer(
                        cfg.state_dir / "clickhouse",
                        cfg.database,
                        tcp_port=cfg.clickhouse_tcp_port,
                        http_port=cfg.clickhouse_http_port,
                    )
                    self.clickhouse.start()
                    self.writer_url = self.clickhouse.url("writer")
                    self.dashboard_url = self.clickhouse.url("dashboard")
                else:
                    self.writer_url = ClickHouseUrl.parse(cfg.clickhouse_url)
                for m in migrate_database(self.writer_url):
                    log.info("applied migration %04d_%s", m.version, m.name)
        except BaseException:
            self.stop()
            raise

    def _start_kafka(self, cfg: StackConfig) -> None:
        if cfg.kafka is None:
            self.broker = KafkaCluster(
                cfg.state_dir, port=cfg.kafka_port, provider_port=cfg.kafka_provider_port
            )
            self.broker.start()
            self.bootstrap = self.broker.bootstrap
        else:
            self.bootstrap = cfg.kafka
        ensure_platform_topics(self.bootstrap, cfg.topic_namespace, cfg.partitions)
        if cfg.providers_file.exists():
            registry = ProviderRegistry.load(cfg.providers_file)
            sync_access(self.bootstrap, registry.providers, cfg.topic_namespace)

    def stop(self) -> None:
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
        if self.clickhouse is not None:
            self.clickhouse.stop()
            self.clickhouse = None


@dataclass
class Platform:
    config: StackConfig
    infra: Infrastructure = field(init=False)
    supervisor: Supervisor = field(init=False)
    gateway_port: int = 0
    metrics_ports: dict[str, int] = field(default_factory=dict)
    endpoints: dict[str, str] = field(default_factory=dict)
    console_port: int = 0
    console_url: str = ""
    _started_at: float = 0.0

    def __post_init__(self) -> None:
        self.infra = Infrastructure(self.config)
        self.supervisor = Supervisor(self.config.state_dir / "log")

    def start(self, timeout: float = 60.0) -> None:
        cfg = self.config
        workers = len(rules_workers(cfg))
        fixed = [
            ("gateway", cfg.gateway_host, cfg.gateway_port, "JIANGUAN_GATEWAY_PORT or --port"),
            ("console", cfg.console_host, cfg.console_port, "JIANGUAN_CONSOLE_PORT"),
        ]
        if cfg.metrics_port:  # gateway, processors, alerting, store, then the rules workers
            fixed += [
                ("metrics", "127.0.0.1", p, "JIANGUAN_METRICS_PORT (it and the next ones)")
                for p in range(cfg.metrics_port, cfg.metrics_port + 4 + workers)
            ]
        if cfg.faust_web_port:
            fixed += [
                ("faust web", "127.0.0.1", p, "JIANGUAN_FAUST_WEB_PORT (it and the next ones)")
                for p in range(cfg.faust_web_port, cfg.faust_web_port + 1 + workers)
            ]
        for what, host, port, setting in fixed:
            if port and port_open(host, port):
                raise StartError(
                    f"the {what} port {host}:{port} is already in use: stop what holds it, or"
                    f" set {setting} (0 takes free ports)"
                )
        reserve(*(port for _, _, port, _ in fixed))
        self.infra.start()
        try:
            with _step("the service processes"):
                self._start_services(cfg, timeout)
        except BaseException:
            self.stop()
            raise
        self._started_at = time.time()
        self._record()

    def _record(self) -> None:
        """What `jianguan status` reads: this process, its servers and services."""
        writer = self.infra.writer_url
        servers = {"kafka": self.infra.bootstrap}
        if writer is not None:
            servers["clickhouse"] = f"{writer.host}:{writer.port}"
        services = {
            name: ServiceRecord(
                entry.child.pid,
                str(log_file(self.config.state_dir / "log", name)),
                f"http://127.0.0.1:{self.metrics_ports[name]}/metrics"
                if name in self.metrics_ports
                else "",
                entry.restarts,
                str(entry.child.log_path),
            )
            for name, entry in self.supervisor.running.items()
        }
        record = UpRecord(
            os.getpid(),
            self._started_at,
            str(self.config.state_dir),
            services,
            servers,
        )
        write_record(self.config.state_dir, record)

    def _start_services(self, cfg: StackConfig, timeout: float) -> None:
        assert self.infra.writer_url is not None
        writer = self.infra.writer_url
        self.gateway_port = cfg.gateway_port or free_port(cfg.gateway_host)
        self.metrics_ports = {
            GATEWAY: cfg.metrics_port or free_port(),
            PROCESSORS: (cfg.metrics_port + 1) if cfg.metrics_port else free_port(),
            ALERTING: (cfg.metrics_port + 2) if cfg.metrics_port else free_port(),
            STORE: (cfg.metrics_port + 3) if cfg.metrics_port else free_port(),
        }
        for n, name in enumerate(rules_workers(cfg)):
            port = (cfg.metrics_port + 4 + n) if cfg.metrics_port else free_port()
            self.metrics_ports[name] = port
        common = {
            "JIANGUAN_KAFKA": self.infra.bootstrap,
            "JIANGUAN_CLICKHOUSE_URL": writer.secret_url(),
            "JIANGUAN_STATE_DIR": str(cfg.state_dir),
            "JIANGUAN_TOPIC_NAMESPACE": cfg.topic_namespace,
            "JIANGUAN_PROVIDERS_FILE": str(cfg.providers_file),
            # Each service logs to <state>/log/<name>.log, rotated (runtime.logs).
            "JIANGUAN_LOG_DIR": str(cfg.state_dir / "log"),
            "JIANGUAN_LOG_LEVEL": cfg.log_level,
        }
        self.supervisor.start(
            ServiceSpec(
                GATEWAY,
                "jianguan.gateway",
                {
                    **common,
                    "JIANGUAN_GATEWAY_HOST": cfg.gateway_host,
                    "JIANGUAN_GATEWAY_PORT": str(self.gateway_port),
                    "JIANGUAN_METRICS_PORT": str(self.metrics_ports[GATEWAY]),
                },
            )
        )
        self.supervisor.start(
            ServiceSpec(
                PROCESSORS,
                "jianguan.processors",
                {
                    **common,
                    "JIANGUAN_METRICS_PORT": str(self.metrics_ports[PROCESSORS]),
                    "JIANGUAN_FAUST_WEB_PORT": str(cfg.faust_web_port or free_port()),
                },
            )
        )
        for n, name in enumerate(rules_workers(cfg)):
            web = (cfg.faust_web_port + 1 + n) if cfg.faust_web_port else free_port()
            self.supervisor.start(
                ServiceSpec(
                    name,
                    "jianguan.processors",
                    {
                        **common,
                        "JIANGUAN_METRICS_PORT": str(self.metrics_ports[name]),
                        "JIANGUAN_FAUST_WEB_PORT": str(web),
                        "JIANGUAN_RULES_WORKER": name,
                    },
                    ("--rules-only",),
                )
            )
        self.supervisor.start(
            ServiceSpec(
                STORE,
                "jianguan.store",
                {**common, "JIANGUAN_METRICS_PORT": str(self.metrics_ports[STORE])},
            )
        )
        self.supervisor.start(
            ServiceSpec(
                ALERTING,
                "jianguan.alerting",
                {**common, "JIANGUAN_METRICS_PORT": str(self.metrics_ports[ALERTING])},
            )
        )
        self._start_console(cfg, common, timeout)
        gateway = self.supervisor.running[GATEWAY].child
        wait_until(
            lambda: port_open(cfg.gateway_host, self.gateway_port), timeout, "gateway", gateway
        )
        console = self.supervisor.running[CONSOLE].child
        wait_until(
            lambda: port_open(cfg.console_host, self.console_port), timeout, "console", console
        )
        shown_once = self.endpoints
        self.endpoints = {
            "console (regulators)": self.console_url,
            **shown_once,
            "gateway (gRPC Ingest, health, reflection)": f"{cfg.gateway_host}:{self.gateway_port}",
            "kafka bootstrap (platform, internal)": self.infra.bootstrap,
            "events topic": topics.topic_name(topics.EVENTS, cfg.topic_namespace),
            "clickhouse (writer)": str(writer),
        }
        if self.infra.broker is not None:
            self.endpoints["kafka for providers (SASL/SCRAM-SHA-512)"] = (
                self.infra.broker.provider_bootstrap
            )
        if self.infra.dashboard_url is not None:
            self.endpoints["clickhouse (read-only dashboard user)"] = str(self.infra.dashboard_url)
        if self.infra.clickhouse is not None:
            self.endpoints["clickhouse http"] = (
                f"http://127.0.0.1:{self.infra.clickhouse.http_port}"
            )
        for name, port in self.metrics_ports.items():
            self.endpoints[f"{name} metrics"] = f"http://127.0.0.1:{port}/metrics"
        self.endpoints["logs"] = str(self.config.state_dir / "log")
        self.endpoints["processes"] = ", ".join(
            f"{name} pid {entry.child.pid}" for name, entry in self.supervisor.running.items()
        )

    def _start_console(self, cfg: StackConfig, common: dict[str, str], timeout: float) -> None:
        """The console reads through the read-only user; a first start creates an administrator
        account and shows its password once."""
        regulators = cfg.regulators_file or cfg.state_dir / "regulators.toml"
        if not Accounts.load(regulators).all:
            password = add_account(regulators, "admin", "admin", [], "Administrator")
            self.endpoints["console login (shown once)"] = f"admin / {password}"
        self.console_port = cfg.console_port or free_port(cfg.console_host)
        readonly = self.infra.dashboard_url or self.infra.writer_url
        assert readonly is not None
        # The console reads; the writer's password stays out of its environment.
        mine = {k: v for k, v in common.items() if k != "JIANGUAN_CLICKHOUSE_URL"}
        self.supervisor.start(
            ServiceSpec(
                CONSOLE,
                "jianguan.console",
                {
                    **mine,
                    "JIANGUAN_CONSOLE_CLICKHOUSE_URL": readonly.secret_url(),
                    "JIANGUAN_CONSOLE_HOST": cfg.console_host,
                    "JIANGUAN_CONSOLE_PORT": str(self.console_port),
                    "JIANGUAN_REGULATORS_FILE": str(regulators),
                },
            )
        )
        self.console_url = f"http://{cfg.console_host}:{self.console_port}"

    async def supervise(self, stop: asyncio.Event) -> None:
        """Restart crashed services until ``stop`` is set."""
        while not stop.is_set():
            restarted = self.supervisor.check()
            for name in restarted:
                log.warning("restarted %s", name)
            if restarted:
                self._record()  # new pids
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)

    def stop(self) -> None:
        """Gateway first (no new items), then the processors (no new records: inbound events,
        cases, alerts; the further rules workers before the first, which would otherwise take
        their partitions over), then the store (drain the sinks), then alerting, then the
        servers."""
        started = time.monotonic()
        remove_record(self.config.state_dir)
        self.supervisor.stop_all(
            [GATEWAY, *rules_workers(self.config), PROCESSORS, STORE, ALERTING, CONSOLE]
        )
        self.infra.stop()
        log.info("stopped in %.1fs", time.monotonic() - started)
