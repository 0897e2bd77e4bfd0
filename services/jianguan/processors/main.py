"""The processors process (`python -m jianguan.processors`, what `up` runs): a faust worker
hosting the rules agents, the store checks and the Kafka inbound validator; with
``--rules-only``, a further worker of the same group hosting only the rules (faust shares their
partitions out). Metrics on JIANGUAN_METRICS_PORT, faust's web on JIANGUAN_FAUST_WEB_PORT."""

from __future__ import annotations

import argparse
import os
import time

from prometheus_client import start_http_server

from jianguan.accounts.registry_watch import RegistryWatcher
from jianguan.contracts import topics
from jianguan.domain.configuration import RuleConfiguration
from jianguan.runtime.entry import servers
from jianguan.settings import Settings
from jianguan.store.executor import ClickHouseUrl, ServerExecutor
from jianguan.store.reader import recent_ids_loader


def _recorded(url: ClickHouseUrl, current: RuleConfiguration) -> list[RuleConfiguration]:
    """The rules' configuration history with ``current`` recorded (if it changed)."""
    from jianguan.store.configurations import record

    with ServerExecutor(url) as ex:
        return record(ex, current)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The process's own option (`python -m jianguan.processors`, `jianguan processors`)."""
    parser.add_argument(
        "--rules-only",
        action="store_true",
        help="host only the rules (a further worker sharing their partitions)",
    )


def run(settings: Settings, rules_only: bool = False) -> int:
    given = servers(settings)
    if given is None:
        return 2
    kafka, url = given

    if settings.processors_nice > 0:
        os.nice(settings.processors_nice)

    from jianguan.domain.watermark import Watermarks
    from jianguan.ingest.inbound import InboundValidator
    from jianguan.kafka_io.admin import partitions_of
    from jianguan.processors.app import Worker, create_app
    from jianguan.processors.engine import RELEVANT_CODES
    from jianguan.processors.monitor import StoreMonitor
    from jianguan.processors.rebuild import Rebuilder
    from jianguan.processors.rules import install_rules
    from jianguan.processors.services import LoopService

    # Re-read when `jianguan providers …` changes it: no restart for a provider added or revoked.
    registry = RegistryWatcher(settings.providers_file)
    # The rules are co-partitioned with the events topic as it is (made by `up` or `prepare`
    # with JIANGUAN_PARTITIONS), whatever this process's setting says.
    events = topics.topic_name(topics.EVENTS, settings.topic_namespace)
    partitions = partitions_of(kafka, events) or settings.partitions
    app = create_app(
        kafka,
        settings.state_dir,
        settings.faust_web_port,
        settings.faust_store,
        settings.topic_namespace,
        settings.rules_worker,
        partitions,
    )
    # The configuration the rules run with from now on, recorded beside the ones before it.
    now = RuleConfiguration(time.time(), settings.rule_overrides, settings.calendar)
    history = _recorded(url, now)
    install_rules(
        app,
        kafka,
        lambda: [p.id for p in registry.current().providers],
        settings.topic_namespace,
        settings.rule_overrides,
        settings.rule_tick_seconds,
        settings.calendar,
        Watermarks(settings.rule_idle_seconds, settings.rule_max_delay_seconds),
        Rebuilder(
            url,
            kafka,
            topics.processors_app_id(settings.topic_namespace),
            events,
            partitions,
            sorted(RELEVANT_CODES),
        ),
        history,
        partitions,
    )
    services: list[LoopService] = []
    if not rules_only:  # one of each in the platform
        inbound = InboundValidator(
            kafka,
            registry,
            settings.topic_namespace,
            known_ids=recent_ids_loader(url),
            dedup_capacity=settings.dedup_ids,
            dedup_max_bytes=settings.dedup_max_mb * 2**20,
        )
        checks = StoreMonitor(
            kafka,
            url,
            settings.topic_namespace,
            settings.rule_overrides,
            settings.check_interval_seconds,
            settings.calendar,
            settings.state_dir / "store-checks" / "produce-ids.db",
        )
        services = [LoopService("store-checks", checks), LoopService("inbound-validator", inbound)]
    start_http_server(settings.metrics_port, addr=settings.metrics_host)
    worker = Worker(
        app,
        *services,
        loglevel="warning",
        quiet=True,
        redirect_stdouts=False,
    )
    worker.execute_from_commandline()
    return 0
