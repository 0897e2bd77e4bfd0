"""The compliance rules as a faust agent, with units of rule state in a changelog-backed table.

jg.events.v1 (keyed by provider, so every case of a provider lives in one partition and one
table shard), jg.authority-complaints.v1, jg.authority-actions.v1 (the authorities' demands) and
jg.rule-input.v1 (the clock) ──rules──▶ jg.cases.v1 (CaseFacts, one record per input record) and
jg.alerts.v2 (Alerts). Each events record is one batch: the native scanner slices out the events
that can change rule state, and the engine reads and writes each unit they touch once. A timer
sends each registered provider a tick through jg.rule-input.v1, so deadlines expire even when a
provider goes silent, and the table is only ever written in the context of the provider's own
partition.

Before a partition of the state takes its first record, it is brought up to the event store
(``processors.rebuild``): rebuilt in full when its changelog is gone, completed when it is behind.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import faust
from google.protobuf.message import DecodeError

from jianguan import metrics
from jianguan.contracts import pb, topics
from jianguan.contracts.batch_events import batch_events
from jianguan.contracts.facts import CaseFact, alert
from jianguan.contracts.observed import AuthorityRecord, observed, observed_authority_record
from jianguan.domain.calendar import WorkingCalendar
from jianguan.domain.configuration import RuleConfiguration
from jianguan.domain.events import Observed
from jianguan.domain.rules.catalog import BY_ID
from jianguan.domain.rules.demands import CONFIDENTIAL_RULES
from jianguan.domain.watermark import Watermarks
from jianguan.processors import local_state
from jianguan.processors.engine import RELEVANT_CODES, RulesEngine
from jianguan.processors.rebuild import Rebuilder, decode_marker, encode_marker, marker_key
from jianguan.processors.state import RuleState

log = logging.getLogger(__name__)
# Facts per jg.cases.v1 record: a rebuild may decide many at once; records stay well under the
# broker's message size limit.
_FACTS_PER_RECORD = 500
# How long a shutdown waits for the facts and the state's writes to reach the broker.
_CLOSE_S = 15.0
# RocksDB, per partition of the state: what it may hold in memory (faust's defaults, a 2 GiB block
# cache and three 64 MiB write buffers, are per partition: 6 partitions could take 13 GiB). The
# units a batch touches are mostly recent, so a small cache serves them; bloom filters answer
# "no such key" (a new unit, a new receipt) without reading a block.
ROCKSDB_OPTIONS = {
    "write_buffer_size": 4 * 2**20,
    "max_write_buffer_number": 2,
    "block_cache_size": 16 * 2**20,
    "bloom_filter_size": 10,
}


def _header(headers: Any, name: str) -> bytes | None:
    items = headers.items() if isinstance(headers, Mapping) else (headers or ())
    for key, value in items:
        if key == name:
            return bytes(value)
    return None


def install_rules(
    app: faust.App,
    bootstrap: str,
    providers: Callable[[], Iterable[str]],
    namespace: str = "",
    overrides: Mapping[str, Mapping[str, float]] | None = None,
    tick_seconds: float = 5.0,
    calendar: WorkingCalendar | None = None,
    watermarks: Watermarks | None = None,
    rebuilder: Rebuilder | None = None,
    history: Sequence[RuleConfiguration] = (),
    partitions: int = topics.PARTITIONS,
) -> None:
    """``partitions``: the events topic's, which every input, the state and its changelog share
    (co-partitioned)."""

    def topic(name: str) -> Any:
        return app.topic(
            topics.topic_name(name, namespace),
            key_serializer="raw",
            value_serializer="raw",
            partitions=partitions,
        )

    # One agent reads the provider-keyed inputs, co-partitioned with the state: events, complaints
    # made to the authorities, their demands, and the clock's ticks.
    names = {t: topics.topic_name(t, namespace) for t in _INPUTS}
    # The authorities' topics, by name, and the message each record is.
    records: dict[str, type[AuthorityRecord]] = {
        names[topics.AUTHORITY_COMPLAINTS]: pb.authority_pb2.AuthorityComplaint,
        names[topics.AUTHORITY_ACTIONS]: pb.authority_pb2.AuthorityAction,
    }
    inputs = app.topic(
        *names.values(), key_serializer="raw", value_serializer="raw", partitions=partitions
    )
    clock, cases, alerts = topic(topics.RULE_INPUT), topic(topics.CASES), topic(topics.ALERTS)
    # bytes keys and values: faust then stores them raw (our own encoding, contracts.facts).
    table = app.Table(
        topics.RULE_STATE_TABLE,
        key_type=bytes,
        value_type=bytes,
        partitions=partitions,
        options=ROCKSDB_OPTIONS,
    )
    on_disk = app.conf.store.scheme == "rocksdb"
    if on_disk:
        local_state.prepare(app.conf.tabledir, topics.RULE_STATE_TABLE)
    state = RuleState(table, bootstrap)
    engine = RulesEngine(state, overrides, calendar, watermarks, history)

    async def publish(facts: list[CaseFact]) -> None:
        for start in range(0, len(facts), _FACTS_PER_RECORD):
            part = facts[start : start + _FACTS_PER_RECORD]
            key = part[0].provider_id.encode()
            value = pb.cases_pb2.CaseFacts(facts=part).SerializeToString()
            await cases.send(key=key, value=value)
            raised = [a for a in map(alert, part) if a is not None]
            if raised:
                await alerts.send(
                    key=key, value=pb.cases_pb2.Alerts(alerts=raised).SerializeToString()
                )

    # Per partition of the state: the last offset of jg.events.v1 applied (processors.rebuild).
    markers: dict[int, int] = {}

    async def ready(partition: int, first: int) -> None:
        """Brings the partition up to the event store before its first record (at offset
        ``first`` of jg.events.v1, or -1 when its first record is another input)."""
        if partition in markers:
            return
        key = marker_key(partition)
        marker = decode_marker(state.get(key))

        async def apply_stored(events: list[Observed], applied: int) -> None:
            state.partition = partition
            await publish(engine.process(events, time.time()))
            state[key] = encode_marker(applied)
            await state.flush()

        if rebuilder is not None:
            if first < 0:
                first = await rebuilder.resume_offset(partition)
            marker = await rebuilder.rebuild(partition, marker, first, apply_stored)
        markers[partition] = -1 if marker is None else marker

    def advance(partition: int, offset: int) -> None:
        """Moves the partition's marker past the jg.events.v1 record just applied (written after
        the units it changed, so a marker restored from the changelog never claims more)."""
        if offset > markers[partition]:
            markers[partition] = offset
            state[marker_key(partition)] = encode_marker(offset)

    async def forget(sender: Any, *args: Any, **kwargs: Any) -> None:
        """Partitions may come back with another state: check them again; indexes are rebuilt
        from what the table then holds."""
        markers.clear()
        engine.forget_indexes()

    async def close(sender: Any, *args: Any, **kwargs: Any) -> None:
        """After the last record (faust stopped the streams first): the facts, then the
        state's writes, out to the log; a state on disk is kept only if both got there within
        ``_CLOSE_S`` (a broker gone must not hold the shutdown)."""

        async def out_to_the_log() -> bool:
            await app.producer.flush()
            return await state.close()

        try:
            complete = await asyncio.wait_for(out_to_the_log(), _CLOSE_S)
        except Exception as exc:  # the broker gone or slow: the state on disk is not kept
            log.error("rules: facts or state writes not delivered at shutdown: %r", exc)
            return
        if complete and on_disk:
            local_state.mark_clean(app.conf.tabledir, topics.RULE_STATE_TABLE)

    app.on_partitions_revoked.connect(forget)  # type: ignore[arg-type]  # faust's stub is narrow
    app.on_before_shutdown.connect(close)  # type: ignore[arg-type]

    @app.agent(inputs, name="rules")
    async def rules(stream: Any) -> None:
        async for event in stream.events():
            partition, source = event.message.partition, event.message.topic
            from_events = source == names[topics.EVENTS]
            state.partition = partition  # every read and write of this record is to its partition
            await ready(partition, event.message.offset if from_events else -1)
            try:
                if from_events:
                    provider = _header(event.headers, topics.HEADER_PROVIDER)
                    if provider is None:
                        continue  # not from an ingest path: the store sets it aside
                    seen = _observed(event.value, provider.decode())
                    if seen:
                        await publish(engine.process(seen, time.time()))
                        advance(partition, event.message.offset)
                elif source in records:
                    # Only a record naming its authority (as every gateway's does) is the
                    # authority's: the store sets the others aside, and so does the replay.
                    authority = _header(event.headers, topics.HEADER_AUTHORITY)
                    record = records[source].FromString(event.value)
                    recorded = observed_authority_record(record, (authority or b"").decode())
                    if authority is not None and recorded is not None:
                        await publish(engine.process([recorded], time.time()))
                elif _header(event.headers, topics.HEADER_TICK) is not None:
                    await publish(engine.tick(time.time(), (event.key or b"").decode()))
            except (DecodeError, TypeError, UnicodeDecodeError) as exc:
                _skip("rules", event, exc)
            finally:
                await state.flush()
                if from_events:
                    _positioned(app, event.message)

    # In every worker: its share of the cases open and overdue (Prometheus sums the workers).
    @app.timer(interval=tick_seconds, name="case-gauges")  # type: ignore[untyped-decorator]
    async def case_gauges() -> None:
        _publish_counts(engine.case_counts())

    # On the group's leader only: one tick per provider, whatever the number of workers.
    @app.timer(interval=tick_seconds, name="rules-tick", on_leader=True)  # type: ignore[untyped-decorator]
    async def tick() -> None:
        for provider in sorted(providers()):  # the registry as it is now
            await clock.send(key=provider.encode(), value=b"", headers=[(topics.HEADER_TICK, b"1")])


def _positioned(app: faust.App, message: Any) -> None:
    """The rules' position in a partition of jg.events.v1, and how far behind its end."""
    label, position = str(message.partition), message.offset + 1
    metrics.RULES_POSITION.labels(label).set(position)
    try:
        end = app.consumer.highwater(message.tp)
    except Exception:  # a partition just revoked, a consumer restarting: a gauge never stops
        return  # the rules
    if end is not None:
        metrics.RULES_LAG.labels(label).set(max(0, end - position))


def _publish_counts(counts: Mapping[str, tuple[int, int]]) -> None:
    """Cases open and overdue by article and severity (``counts`` holds every rule of the
    engine, a rule with none at 0)."""
    by_label: dict[tuple[str, str], list[int]] = {}
    for rule_id, (open_, overdue) in counts.items():
        if rule_id in CONFIDENTIAL_RULES:  # Art. 19 ¶2: not on everyone's dashboards
            continue
        rule = BY_ID[rule_id]
        total = by_label.setdefault((rule.article.ref, rule.severity), [0, 0])
        total[0] += open_
        total[1] += overdue
    for (article, severity), (open_, overdue) in by_label.items():
        metrics.CASES_OPEN.labels(article, severity).set(open_)
        metrics.CASES_OVERDUE.labels(article, severity).set(overdue)


def _skip(agent: str, event: Any, exc: Exception) -> None:
    metrics.RULES_SKIPPED.labels(agent).inc()
    where = f"{event.message.topic}[{event.message.partition}]@{event.message.offset}"
    log.error("%s: record %s is unreadable (%s); skipped", agent, where, exc)


_INPUTS = (topics.EVENTS, topics.AUTHORITY_COMPLAINTS, topics.AUTHORITY_ACTIONS, topics.RULE_INPUT)


def relevant_events(value: bytes) -> list[pb.Event]:
    """The events of a batch record that can change rule state, in order, decoded (the others
    are only sliced past by the native scanner)."""
    return batch_events().of_kinds(value, RELEVANT_CODES)


def _observed(value: bytes, provider_id: str) -> list[Observed]:
    seen = (observed(ev, provider_id) for ev in relevant_events(value))
    return [o for o in seen if o is not None]
