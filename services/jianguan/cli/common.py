"""Helpers the `jianguan` subcommands share: the stack configuration from arguments and settings,
the ClickHouse and Kafka to work on, the endpoint banner."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from jianguan.runtime.broker import running_embedded
from jianguan.runtime.clickhouse import running_embedded as running_clickhouse
from jianguan.runtime.stack import Platform, StackConfig
from jianguan.settings import Settings
from jianguan.store.executor import ClickHouseUrl


def stack_config(
    args: argparse.Namespace, settings: Settings, state: Path, providers_file: Path
) -> StackConfig:
    port = getattr(args, "port", None)
    return StackConfig(
        state_dir=state,
        providers_file=providers_file,
        kafka=getattr(args, "kafka", None) or settings.kafka,
        kafka_port=settings.kafka_port,
        kafka_provider_port=settings.kafka_provider_port,
        clickhouse_tcp_port=settings.clickhouse_tcp_port,
        clickhouse_http_port=settings.clickhouse_http_port,
        clickhouse_url=getattr(args, "clickhouse", None) or settings.clickhouse_url,
        database=settings.database,
        gateway_host=settings.gateway_host,
        gateway_port=port if port is not None else settings.gateway_port,
        metrics_port=settings.metrics_port,
        faust_web_port=settings.faust_web_port,
        rules_workers=settings.rules_workers,
        topic_namespace=settings.topic_namespace,
        partitions=settings.partitions,
        console_host=settings.console_host,
        console_port=settings.console_port,
        regulators_file=settings.regulators_file,
        log_level="DEBUG" if getattr(args, "verbose", False) else settings.log_level,
    )


def clickhouse_target(args: argparse.Namespace, settings: Settings) -> ClickHouseUrl | None:
    """The ClickHouse to work on: --clickhouse, else JIANGUAN_CLICKHOUSE_URL, else the
    embedded one of the state directory when it runs (its password is in the state directory:
    nothing to dig out); None, after saying why in one line, when there is none."""
    url = getattr(args, "clickhouse", None) or settings.clickhouse_url
    if url:
        try:
            return ClickHouseUrl.parse(url)
        except ValueError as exc:
            print(f"error: --clickhouse / JIANGUAN_CLICKHOUSE_URL: {exc}", file=sys.stderr)
            return None
    embedded = running_clickhouse(settings.state_dir / "clickhouse", settings.database)
    if embedded is None:
        print(
            f"error: no ClickHouse: the embedded one of {settings.state_dir} is not running"
            " (`jianguan up`, or set JIANGUAN_STATE_DIR); or give --clickhouse"
            " clickhouse://user:pass@host:port/db",
            file=sys.stderr,
        )
    return embedded


def kafka_listeners(settings: Settings) -> tuple[str, str] | None:
    """(platform bootstrap, providers' bootstrap) of JIANGUAN_KAFKA, else of the embedded broker
    of the state directory when it runs; None when there is none."""
    if settings.kafka:
        return settings.kafka, settings.kafka_provider_bootstrap or settings.kafka
    return running_embedded(settings.state_dir)


def stack_args(sp: argparse.ArgumentParser) -> None:
    """The options of the commands that start the platform (`up`, `demo`, `simulate`)."""
    sp.add_argument(
        "--kafka", help="use this Kafka bootstrap (HOST:PORT) instead of the embedded broker"
    )
    sp.add_argument(
        "--clickhouse", help="use this ClickHouse (clickhouse://user:pass@host:port/db)"
    )
    sp.add_argument("--port", type=int, help="gateway port (0 = any free port)")


def print_endpoints(platform: Platform) -> None:
    print("jianguan is up:", flush=True)
    for name, value in platform.endpoints.items():
        print(f"  {name:42} {value}", flush=True)
