"""`jianguan prepare`: what the services need on existing servers before they start (systemd,
Kubernetes, compose): the platform's topics, the providers' topics and ACLs, the ClickHouse
schema. `jianguan up` does the same for itself; the services alone never create topics (a
production cluster does not auto-create them) nor migrate (one migrator at a time)."""

from __future__ import annotations

import argparse
import sys

from jianguan.accounts.registry import ProviderRegistry, RegistryError
from jianguan.cli.common import clickhouse_target
from jianguan.cli.store import CLICKHOUSE_HELP
from jianguan.kafka_io.access import sync_access
from jianguan.kafka_io.admin import PartitionsDiffer, ensure_platform_topics
from jianguan.settings import Settings
from jianguan.store.migrate import migrate_database


def cmd_prepare(args: argparse.Namespace, settings: Settings) -> int:
    bootstrap = args.kafka or settings.kafka
    if not bootstrap:
        print("error: no Kafka: give --kafka HOST:PORT or set JIANGUAN_KAFKA", file=sys.stderr)
        return 2
    url = clickhouse_target(args, settings)
    if url is None:
        return 2
    try:
        registry = (
            ProviderRegistry.load(settings.providers_file)
            if settings.providers_file.exists()
            else None
        )
    except RegistryError as exc:
        print(f"error: {settings.providers_file}: {exc}", file=sys.stderr)
        return 2
    try:
        ensure_platform_topics(bootstrap, settings.topic_namespace, settings.partitions)
    except PartitionsDiffer as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"topics of the platform ready on {bootstrap} ({settings.partitions} partitions)")
    if registry is not None:
        sync_access(bootstrap, registry.providers, settings.topic_namespace)
        print(f"topics and ACLs of {len(registry.providers)} provider(s) ready")
    applied = migrate_database(url)
    for m in applied:
        print(f"applied {m.version:04d}_{m.name}")
    print(f"ClickHouse schema ready at {url} ({len(applied)} migration(s) applied now)")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "prepare",
        help="create the topics, ACLs and ClickHouse schema the services need (idempotent)",
        description="Run once before the services start on existing servers, and again after"
        " an upgrade: creates the platform's topics with their final partition counts, each"
        " registered provider's topics and ACLs, and applies the ClickHouse migrations (on a"
        " cluster when the URL names one). Safe to repeat.",
    )
    p.add_argument("--kafka", help="the Kafka bootstrap (HOST:PORT,…); default: JIANGUAN_KAFKA")
    p.add_argument("--clickhouse", help=CLICKHOUSE_HELP)
    p.set_defaults(fn=cmd_prepare)
