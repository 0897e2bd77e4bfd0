"""The store process (`python -m jianguan.store`, what `up` runs as its store): the sinks from
the log into ClickHouse (the event store, ingest outcomes, cases, alerts and the authorities'
records), metrics on JIANGUAN_METRICS_PORT. Alone in their process, so storing what was accepted
never waits behind the rules; runs until SIGINT or SIGTERM, then drains."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

from prometheus_client import start_http_server

from jianguan.contracts import topics
from jianguan.runtime.entry import servers
from jianguan.runtime.loops import run_all
from jianguan.runtime.signals import stop_event
from jianguan.settings import Settings
from jianguan.store.cases import (
    AlertBatch,
    AuthorityActionBatch,
    AuthorityComplaintBatch,
    CaseFactBatch,
    DispositionBatch,
)
from jianguan.store.dead_letters import DeadLetterBatch
from jianguan.store.executor import ClickHouseUrl, SchemaMismatch, ServerExecutor
from jianguan.store.outcomes import OutcomeBatch
from jianguan.store.sink import StoreSink, event_store_sink
from jianguan.store.writer import Batch, BatchWriter


def sinks(settings: Settings, url: ClickHouseUrl) -> dict[str, StoreSink]:
    """Every sink of the store process, by name."""
    kafka, namespace = settings.kafka or "", settings.topic_namespace

    def sink(topic: str, batch: Callable[[], Batch], **options: Any) -> StoreSink:
        return StoreSink(
            kafka,
            topics.topic_name(topic, namespace),
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
            kafka, topics.topic_name(topics.EVENTS, namespace), topics.SINK_GROUPS[topics.EVENTS],
            url,
        ),
        "outcome-sink": sink(topics.OUTCOMES, OutcomeBatch, max_wait_s=2.0),
        "case-sink": sink(topics.CASES, CaseFactBatch, **derived),
        "alert-sink": sink(topics.ALERTS, AlertBatch, **derived),
        "disposition-sink": sink(topics.OFFSHORE_DISPOSITIONS, DispositionBatch, **by_authority),
        "authority-complaint-sink": sink(
            topics.AUTHORITY_COMPLAINTS, AuthorityComplaintBatch, **by_authority
        ),
        "authority-action-sink": sink(
            topics.AUTHORITY_ACTIONS, AuthorityActionBatch, **by_authority
        ),
        # Records a consumer gave up on, kept beside what the sinks set aside.
        "dead-letter-sink": sink(
            topics.DEAD_LETTERS, DeadLetterBatch, attributed=False, max_wait_s=1.0
        ),
    }  # fmt: skip


def run(settings: Settings) -> int:
    given = servers(settings)
    if given is None:
        return 2
    try:
        running = sinks(settings, given[1])
    except SchemaMismatch as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    start_http_server(settings.metrics_port, addr=settings.metrics_host)

    async def main() -> None:
        stop = stop_event()
        await run_all(running, stop)

    asyncio.run(main())
    return 0
