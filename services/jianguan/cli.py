"""`jianguan …` subcommands."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from kafka.errors import KafkaError
from prometheus_client import start_http_server

from jianguan.alerting.dispatcher import Dispatcher
from jianguan.alerting.gauges import ComplianceGauges
from jianguan.cli_common import (
    clickhouse_target,
    kafka_listeners,
    load_registry,
    print_endpoints,
    save_registry,
    stack_config,
)
from jianguan.cli_console import add_parsers as add_console_parsers
from jianguan.cli_demo import add_parsers as add_demo_parsers
from jianguan.cli_kafka import add_parsers as add_kafka_parsers
from jianguan.cli_quarantine import add_parsers as add_quarantine_parsers
from jianguan.contracts import topics
from jianguan.domain.chain import verify_chain
from jianguan.domain.configuration import RuleConfiguration
from jianguan.gateway.server import Gateway, TlsConfig
from jianguan.ingest.acl import acl_script
from jianguan.ingest.registry import (
    Authority,
    Provider,
    ProviderRegistry,
    RegistryError,
    new_token,
    token_digest,
)
from jianguan.runtime.kafka_access import (
    AccessError,
    issue_credential,
    revoke_access,
    sync_access,
)
from jianguan.runtime.loops import run_all
from jianguan.runtime.signals import stop_on_signals
from jianguan.runtime.stack import Platform, StartError
from jianguan.settings import Settings, SettingsError
from jianguan.store import reader
from jianguan.store.executor import ClickHouseUrl, ServerExecutor
from jianguan.store.migrate import migrate
from jianguan.store.outcomes import OutcomeBatch
from jianguan.store.reader import recent_event_ids
from jianguan.store.sink import StoreSink, event_store_sink
from jianguan.store.writer import Batch, BatchWriter


def _tls(settings: Settings) -> TlsConfig | None:
    if settings.tls_cert and settings.tls_key:
        return TlsConfig(settings.tls_cert, settings.tls_key, settings.tls_client_ca)
    return None


def cmd_gateway(args: argparse.Namespace, settings: Settings) -> int:
    """The gRPC gateway alone (what `up` runs as its gateway process)."""
    if not settings.kafka:
        print("error: JIANGUAN_KAFKA is not set", file=sys.stderr)
        return 2
    registry = ProviderRegistry.load(settings.providers_file)
    kafka = settings.kafka

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
        start_http_server(settings.metrics_port, addr="127.0.0.1")
        await gateway.start(_recent_ids(settings) if settings.clickhouse_url else None)
        stop = asyncio.Event()
        stop_on_signals(asyncio.get_running_loop(), stop)
        await stop.wait()
        await gateway.stop()

    asyncio.run(main())
    return 0


def cmd_alerting(args: argparse.Namespace, settings: Settings) -> int:
    """The alert dispatcher and the compliance gauges (what `up` runs as its alerting process)."""
    if not settings.kafka or not settings.clickhouse_url:
        print("error: JIANGUAN_KAFKA and JIANGUAN_CLICKHOUSE_URL must be set", file=sys.stderr)
        return 2
    url = ClickHouseUrl.parse(settings.clickhouse_url)
    kafka = settings.kafka

    async def main() -> None:
        dispatcher = Dispatcher(kafka, url, settings.alerting, settings.topic_namespace)
        gauges = ComplianceGauges(url, settings.gauge_interval_seconds)
        start_http_server(settings.metrics_port, addr="127.0.0.1")
        stop = asyncio.Event()
        stop_on_signals(asyncio.get_running_loop(), stop)
        await run_all({"dispatcher": dispatcher, "gauges": gauges}, stop)

    asyncio.run(main())
    return 0


def _recorded(url: ClickHouseUrl, current: RuleConfiguration) -> list[RuleConfiguration]:
    """The rules' configuration history with ``current`` recorded (if it changed)."""
    from jianguan.store.configurations import record

    ex = ServerExecutor(url)
    try:
        return record(ex, current)
    finally:
        ex.close()


def _recent_ids(settings: Settings) -> Callable[[], list[tuple[str, str]]]:
    url = ClickHouseUrl.parse(settings.clickhouse_url or "")

    def load() -> list[tuple[str, str]]:
        ex = ServerExecutor(url)
        try:
            return recent_event_ids(ex, window_s=86_400, limit=1_000_000)
        finally:
            ex.close()

    return load


def _sinks(settings: Settings, url: ClickHouseUrl) -> dict[str, StoreSink]:
    from jianguan.store.cases import (
        AlertBatch,
        AuthorityComplaintBatch,
        CaseFactBatch,
        DispositionBatch,
    )

    def sink(topic: str, batch: Callable[[], Batch], **options: Any) -> StoreSink:
        return StoreSink(
            settings.kafka or "",
            topics.topic_name(topic, settings.topic_namespace),
            topics.SINK_GROUPS[topic],
            lambda: BatchWriter(ServerExecutor(url)),
            batch,
            **options,
        )

    # Every insert becomes a part that ClickHouse merges again and again, and the small tables
    # (one growing part) pay it most: at 27,000 events/s, inserts every 0.4 s made ClickHouse
    # merge 190x the rows inserted into ingest_outcomes and 12-33x those of the cases and alerts,
    # as much merging as the event store's (docs/capacity.md). Only the event store inserts
    # every 0.4 s (freshness); the others wait as long as their readers can.
    by_authority: dict[str, Any] = {"who_header": topics.HEADER_AUTHORITY, "max_wait_s": 1.0}
    # Cases and alerts carry the provider in their payload.
    derived: dict[str, Any] = {"attributed": False, "max_wait_s": 1.0}
    return {
        "event-store-sink": event_store_sink(
            settings.kafka or "",
            topics.topic_name(topics.EVENTS, settings.topic_namespace),
            topics.SINK_GROUPS[topics.EVENTS],
            url,
        ),
        "outcome-sink": sink(topics.OUTCOMES, OutcomeBatch, max_wait_s=2.0),
        "case-sink": sink(topics.CASES, CaseFactBatch, **derived),
        "alert-sink": sink(topics.ALERTS, AlertBatch, **derived),
        "disposition-sink": sink(topics.OFFSHORE_DISPOSITIONS, DispositionBatch, **by_authority),
        "authority-complaint-sink": sink(
            topics.AUTHORITY_COMPLAINTS, AuthorityComplaintBatch, **by_authority
        ),
    }  # fmt: skip


def cmd_store(args: argparse.Namespace, settings: Settings) -> int:
    """The store sinks, from the log into ClickHouse: the event store, ingest outcomes, cases,
    alerts and authority records (what `up` runs as its store process). Alone in their process,
    so storing what was accepted never waits behind the rules."""
    if not settings.kafka or not settings.clickhouse_url:
        print("error: JIANGUAN_KAFKA and JIANGUAN_CLICKHOUSE_URL must be set", file=sys.stderr)
        return 2
    sinks = _sinks(settings, ClickHouseUrl.parse(settings.clickhouse_url))
    start_http_server(settings.metrics_port, addr="127.0.0.1")

    async def main() -> None:
        stop = asyncio.Event()
        stop_on_signals(asyncio.get_running_loop(), stop)
        await run_all(sinks, stop)

    asyncio.run(main())
    return 0


def cmd_processors(args: argparse.Namespace, settings: Settings) -> int:
    """The faust worker hosting the rules agents, the store checks and the Kafka inbound
    validator (what `up` runs as its processors process); with ``--rules-only``, a further
    worker of the same group hosting only the rules (faust shares their partitions out)."""
    if not settings.kafka or not settings.clickhouse_url:
        print("error: JIANGUAN_KAFKA and JIANGUAN_CLICKHOUSE_URL must be set", file=sys.stderr)
        return 2

    if settings.processors_nice > 0:
        os.nice(settings.processors_nice)

    from jianguan.domain.watermark import Watermarks
    from jianguan.processors.app import Worker, create_app
    from jianguan.processors.engine import RELEVANT_CODES
    from jianguan.processors.inbound import InboundValidator
    from jianguan.processors.monitor import StoreMonitor
    from jianguan.processors.rebuild import Rebuilder
    from jianguan.processors.rules import install_rules
    from jianguan.processors.services import LoopService

    url = ClickHouseUrl.parse(settings.clickhouse_url)
    registry = load_registry(settings.providers_file)
    app = create_app(
        settings.kafka,
        settings.state_dir,
        settings.faust_web_port,
        settings.faust_store,
        settings.topic_namespace,
        settings.rules_worker,
    )
    # The configuration the rules run with from now on, recorded beside the ones before it.
    now = RuleConfiguration(time.time(), settings.rule_overrides, settings.calendar)
    history = _recorded(url, now)
    install_rules(
        app,
        settings.kafka,
        [p.id for p in registry.providers],
        settings.topic_namespace,
        settings.rule_overrides,
        settings.rule_tick_seconds,
        settings.calendar,
        Watermarks(settings.rule_idle_seconds, settings.rule_max_delay_seconds),
        Rebuilder(
            url,
            settings.kafka,
            topics.processors_app_id(settings.topic_namespace),
            topics.topic_name(topics.EVENTS, settings.topic_namespace),
            topics.PARTITIONS,
            sorted(RELEVANT_CODES),
        ),
        history,
    )
    services: list[LoopService] = []
    if not args.rules_only:  # one of each in the platform
        inbound = InboundValidator(
            settings.kafka,
            registry,
            settings.topic_namespace,
            known_ids=_recent_ids(settings),
            dedup_capacity=settings.dedup_ids,
            dedup_max_bytes=settings.dedup_max_mb * 2**20,
        )
        checks = StoreMonitor(
            settings.kafka,
            url,
            settings.topic_namespace,
            settings.rule_overrides,
            settings.check_interval_seconds,
            settings.calendar,
            settings.state_dir / "store-checks" / "produce-ids.db",
        )
        services = [LoopService("store-checks", checks), LoopService("inbound-validator", inbound)]
    start_http_server(settings.metrics_port, addr="127.0.0.1")
    worker = Worker(
        app,
        *services,
        loglevel="warning",
        quiet=True,
        redirect_stdouts=False,
    )
    worker.execute_from_commandline()
    return 0


# -- the platform --------------------------------------------------------------------------


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    try:
        ProviderRegistry.load(settings.providers_file)
    except RegistryError as exc:
        print(
            f"error: {exc}\n(register providers with `jianguan providers add ID`)", file=sys.stderr
        )
        return 2
    platform = Platform(stack_config(args, settings, settings.state_dir, settings.providers_file))
    # A SIGTERM while the servers start stops what was started (never orphans a child).
    signal.signal(signal.SIGTERM, _exit_cleanly)
    platform.start()
    try:
        print_endpoints(platform)

        async def main() -> None:
            stop = asyncio.Event()
            stop_on_signals(asyncio.get_running_loop(), stop)
            print("Ctrl-C stops everything.", flush=True)  # only once a signal is handled
            await platform.supervise(stop)

        asyncio.run(main())
    finally:
        print("stopping…", flush=True)
        platform.stop()
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    url = clickhouse_target(args, settings)
    if url is None:
        return 2
    ex = ServerExecutor(url, create_database=True)
    try:
        for m in migrate(ex):
            print(f"applied {m.version:04d}_{m.name}")
    finally:
        ex.close()
    return 0


def cmd_providers(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.providers_file
    registry = load_registry(path)
    if args.action == "list":
        for p in registry.providers:
            print(
                f"{p.id:24} {p.name:32} rate={p.rate_per_s:.0f}/s mtls={p.mtls_subject or '-'}"
                f" sector={p.sector or '-'}"
            )
        return 0
    if args.action == "acl":
        print(
            acl_script(registry.providers, args.bootstrap, args.admin_config, args.namespace),
            end="",
        )
        return 0
    if args.action == "revoke":
        return _revoke_provider(args, settings, registry)
    if args.action == "kafka-credential":
        if registry.get(args.id) is None:
            print(f"error: no provider {args.id!r}", file=sys.stderr)
            return 2
        return 0 if _kafka_credential(settings, registry, args.id) else 1
    if registry.get(args.id) is not None:
        print(f"error: provider {args.id!r} exists", file=sys.stderr)
        return 2
    token = new_token()
    provider = Provider(
        args.id,
        args.name or args.id,
        token_sha256=token_digest(token),
        mtls_subject=args.mtls_subject or "",
        rate_per_s=args.rate,
        burst=args.rate * 2,
        sector=args.sector or "",
    )
    try:
        updated = ProviderRegistry([*registry.providers, provider], registry.authorities)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    save_registry(path, updated)
    print(f"registered {args.id}; its token (shown once, store it safely):\n{token}")
    _kafka_credential(settings, updated, args.id)
    return 0


def _kafka_credential(settings: Settings, registry: ProviderRegistry, provider_id: str) -> bool:
    """Direct Kafka ingest for one provider: its topics and ACLs, and a new SCRAM password."""
    kafka = kafka_listeners(settings)
    if kafka is None:
        print(
            "direct Kafka ingest: no broker is running; once `jianguan up` runs, "
            f"`jianguan providers kafka-credential {provider_id}` issues its SCRAM password"
        )
        return False
    try:
        sync_access(kafka[0], registry.providers, settings.topic_namespace)
        password = issue_credential(kafka[0], provider_id)
    except (KafkaError, AccessError, OSError) as exc:
        print(f"error: the broker at {kafka[0]} refused: {exc}", file=sys.stderr)
        return False
    inbound = topics.inbound_topic(provider_id, settings.topic_namespace)
    print(
        f"direct Kafka ingest: {kafka[1]} (SASL_PLAINTEXT, SCRAM-SHA-512), user {provider_id},"
        f" writes {inbound}, reads {topics.feedback_topic(provider_id, settings.topic_namespace)};"
        f" its password (shown once):\n{password}"
    )
    return True


def _revoke_provider(
    args: argparse.Namespace, settings: Settings, registry: ProviderRegistry
) -> int:
    """Remove a provider from the registry and take away its broker access (its data stays)."""
    if registry.get(args.id) is None:
        print(f"error: no provider {args.id!r}", file=sys.stderr)
        return 2
    remaining = [p for p in registry.providers if p.id != args.id]
    save_registry(settings.providers_file, ProviderRegistry(remaining, registry.authorities))
    print(f"revoked {args.id}: its token no longer authenticates once the gateway restarts")
    kafka = kafka_listeners(settings)
    if kafka is None:
        print("no broker is running: `jianguan up` removes its Kafka credential and ACLs")
        return 0
    try:
        revoke_access(kafka[0], args.id)
    except (KafkaError, AccessError, OSError) as exc:
        print(f"error: the broker at {kafka[0]} refused: {exc}", file=sys.stderr)
        return 1
    print(f"removed its Kafka credential and ACLs at {kafka[0]}")
    return 0


def cmd_verify_chain(args: argparse.Namespace, settings: Settings) -> int:
    """Check every service's hash chain in the event store; exit 1 if any is broken."""
    url = clickhouse_target(args, settings)
    if url is None:
        return 2
    ex = ServerExecutor(url)
    broken = 0
    try:
        for provider_id, service_id in reader.services(ex, args.provider):
            breaks = verify_chain(reader.chain_links(ex, provider_id, service_id))
            for b in breaks:
                print(f"{provider_id}/{service_id}: {b.kind} at sequence {b.sequence}"
                      f" (event {b.event_id}): {b.detail}")  # fmt: skip
            broken += bool(breaks)
            if args.verbose_ok and not breaks:
                print(f"{provider_id}/{service_id}: intact")
    finally:
        ex.close()
    print(f"{broken} service(s) with a broken chain", file=sys.stderr)
    return 1 if broken else 0


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild the case projections from the event store, or (--verify) check them."""
    from jianguan.processors import replay

    target = clickhouse_target(args, settings)
    if target is None:
        return 2
    if not args.verify:
        written = replay.rebuild(target, 0.0, settings.rule_overrides, settings.calendar)
        print(f"rebuilt case_facts and alerts from the event store: {written} facts")
        return 0
    verdict = replay.verify(
        target, args.grace, settings.rule_overrides, keep=args.keep, calendar=settings.calendar
    )
    for row in verdict.live_only:
        print(f"live only:   {row}")
    for row in verdict.replay_only:
        print(f"replay only: {row}")
    print("replay equals live" if verdict.equal else "replay DIFFERS from live", file=sys.stderr)
    return 0 if verdict.equal else 1


def cmd_rules(args: argparse.Namespace, settings: Settings) -> int:
    """The rules catalog, as a table or as JSON."""
    from dataclasses import asdict

    from jianguan.domain.rules.catalog import CATALOG, shown

    if args.json:
        docs = []
        for r in CATALOG:
            doc = asdict(r)
            doc["article"].update(
                ref=r.article.ref, ref_zh=r.article.ref_zh, quote_zh=r.article.quote_zh
            )
            docs.append(doc)
        print(json.dumps(docs, ensure_ascii=False, indent=2))
        return 0
    for r in CATALOG:
        state = "active" if r.active else "planned"
        print(f"{r.id:28} {r.article.ref:16} {r.severity:9} {state:8} {r.title}")
        for line in r.article.quote_zh.splitlines():
            print(f"{'':28} {line}")
        print(f"{'':28} ({r.article.ref_zh}; in force from {r.in_force}: {r.in_force_source})")
        print(f"{'':28} {r.article.gloss_en}")
        for p in r.params:
            print(f"{'':28} - {p.name} = {shown(p.default)} {p.unit}: {p.description} [{p.source}]")
        print()
    return 0


def cmd_authorities(args: argparse.Namespace, settings: Settings) -> int:
    """Register an authority account (records complaints made to it, Art. 18)."""
    path = settings.providers_file
    registry = load_registry(path)
    token = new_token()
    try:
        updated = ProviderRegistry(
            registry.providers,
            [*registry.authorities, Authority(args.id, args.name or args.id, token_digest(token))],
        )
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    save_registry(path, updated)
    print(f"registered authority {args.id}; its token (shown once, store it safely):\n{token}")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jianguan", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    def stack_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--kafka", help="use this Kafka bootstrap (HOST:PORT) instead of the embedded broker"
        )
        sp.add_argument(
            "--clickhouse", help="use this ClickHouse (clickhouse://user:pass@host:port/db)"
        )
        sp.add_argument("--port", type=int, help="gateway port (0 = any free port)")

    up = sub.add_parser("up", help="start the platform on this machine")
    stack_args(up)
    up.set_defaults(fn=cmd_up)

    add_demo_parsers(sub, stack_args)

    auth = sub.add_parser("authorities", help="authority accounts (Art. 18 complaint intake)")
    auth_sub = auth.add_subparsers(dest="action", required=True)
    auth_add = auth_sub.add_parser("add", help="register an authority and print its token")
    auth_add.add_argument("id")
    auth_add.add_argument("--name")
    auth.set_defaults(fn=cmd_authorities)

    rules = sub.add_parser("rules", help="the rules catalog")
    rules_sub = rules.add_subparsers(dest="action", required=True)
    rules_list = rules_sub.add_parser("list", help="every rule with its article and parameters")
    rules_list.add_argument("--json", action="store_true")
    rules.set_defaults(fn=cmd_rules)

    rp = sub.add_parser("replay", help="rebuild case projections from the event store")
    rp.add_argument("--clickhouse")
    rp.add_argument("--verify", action="store_true", help="replay into a scratch DB and compare")
    rp.add_argument("--grace", type=float, default=30.0, help="seconds of recent facts to skip")
    rp.add_argument("--keep", action="store_true", help="keep the scratch database")
    rp.set_defaults(fn=cmd_replay)

    vc = sub.add_parser("verify-chain", help="check the hash chain of every stored service")
    vc.add_argument("--clickhouse")
    vc.add_argument("--provider")
    vc.add_argument("--verbose-ok", action="store_true", help="also list intact services")
    vc.set_defaults(fn=cmd_verify_chain)

    gw = sub.add_parser("gateway", help="run the gRPC gateway process (configured by env)")
    gw.set_defaults(fn=cmd_gateway)
    add_console_parsers(sub)
    add_kafka_parsers(sub)
    add_quarantine_parsers(sub)

    al = sub.add_parser("alerting", help="run the alert dispatcher process (configured by env)")
    al.set_defaults(fn=cmd_alerting)

    procs = sub.add_parser(
        "processors", help="run the faust worker: rules, store checks, Kafka inbound validation"
    )
    procs.add_argument(
        "--rules-only",
        action="store_true",
        help="host only the rules (a further worker sharing their partitions)",
    )
    procs.set_defaults(fn=cmd_processors)
    store = sub.add_parser("store", help="run the store sinks: the log into ClickHouse")
    store.set_defaults(fn=cmd_store)

    mig = sub.add_parser("migrate", help="apply ClickHouse migrations")
    mig.add_argument("--clickhouse")
    mig.set_defaults(fn=cmd_migrate)

    prov = sub.add_parser("providers", help="the provider registry")
    prov_sub = prov.add_subparsers(dest="action", required=True)
    add = prov_sub.add_parser("add", help="register a provider and print its token")
    add.add_argument("id")
    add.add_argument("--name")
    add.add_argument("--mtls-subject")
    add.add_argument("--rate", type=float, default=200_000.0)
    add.add_argument("--sector", help="e.g. education, news, healthcare (console viewer scopes)")
    prov_sub.add_parser("list")
    revoke = prov_sub.add_parser(
        "revoke", help="remove a provider; its Kafka credential and ACLs go with it"
    )
    revoke.add_argument("id")
    cred = prov_sub.add_parser(
        "kafka-credential", help="issue a new SCRAM password for direct Kafka ingest (rotation)"
    )
    cred.add_argument("id")
    acl = prov_sub.add_parser("acl", help="Kafka ACLs (SASL/SCRAM) for direct ingest, as a script")
    acl.add_argument("--bootstrap", default="${BOOTSTRAP}")
    acl.add_argument("--admin-config", default="${ADMIN_CONFIG}")
    acl.add_argument("--namespace", default="")
    prov.set_defaults(fn=cmd_providers)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # kafka-python (topic and ACL administration) logs every retry of a connection; what
        # failed in the end reaches the user as one error line (StartError, AccessError).
        logging.getLogger("kafka").setLevel(logging.CRITICAL)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        result: int = args.fn(args, settings)
    except StartError as exc:  # a server that is down or refuses us: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return result


if __name__ == "__main__":
    sys.exit(main())
