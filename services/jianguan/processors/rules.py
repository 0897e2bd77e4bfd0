"""The compliance rules as faust agents, with per-subject state in a changelog-backed table.

jg.events.v1 ──select──▶ jg.rule-input.v1 (only rule-relevant events, re-keyed by provider, so
every case of a provider lives in one partition and one table shard) ──rules──▶ jg.cases.v1
(CaseFacts) and jg.alerts.v1 (Alerts). A timer sends each registered provider a tick through the
same topic, so deadlines expire on the wall clock even when a provider goes silent, and the
table is only ever written in the context of the provider's own partition.

Before a partition of the state takes its first record, it is brought up to the event store
(``processors.rebuild``): rebuilt in full when its changelog is gone, completed when it is behind.
"""

from __future__ import annotations

import logging
import time
from collections.abc import ItemsView, Iterable, Iterator, Mapping, MutableMapping
from typing import Any

import faust
from google.protobuf.message import DecodeError

from jianguan import metrics
from jianguan.contracts import pb, topics, wire
from jianguan.contracts.codec import encode_batch
from jianguan.contracts.facts import CaseFact, alert
from jianguan.contracts.observed import observed, observed_authority_complaint
from jianguan.domain.calendar import WorkingCalendar
from jianguan.domain.events import Observed
from jianguan.domain.watermark import Watermarks
from jianguan.processors.engine import RELEVANT_KINDS, RulesEngine
from jianguan.processors.rebuild import Rebuilder, decode_marker, encode_marker, marker_key

log = logging.getLogger(__name__)
# Facts per jg.cases.v1 record: a rebuild may decide many at once; records stay well under the
# broker's message size limit.
_FACTS_PER_RECORD = 500


def _header(headers: Any, name: str) -> bytes | None:
    items = headers.items() if isinstance(headers, Mapping) else (headers or ())
    for key, value in items:
        if key == name:
            return bytes(value)
    return None


def install_rules(
    app: faust.App,
    providers: Iterable[str],
    namespace: str = "",
    overrides: Mapping[str, Mapping[str, float]] | None = None,
    tick_seconds: float = 5.0,
    calendar: WorkingCalendar | None = None,
    watermarks: Watermarks | None = None,
    rebuilder: Rebuilder | None = None,
) -> None:
    def topic(name: str) -> Any:
        return app.topic(
            topics.topic_name(name, namespace),
            key_serializer="raw",
            value_serializer="raw",
            partitions=topics.PARTITIONS,
        )

    events, rule_input = topic(topics.EVENTS), topic(topics.RULE_INPUT)
    authority = topic(topics.AUTHORITY_COMPLAINTS)
    cases, alerts = topic(topics.CASES), topic(topics.ALERTS)
    # bytes keys and values: faust then stores them raw (our own encoding, contracts.facts).
    table = app.Table(
        topics.RULE_STATE_TABLE, key_type=bytes, value_type=bytes, partitions=topics.PARTITIONS
    )
    engine = RulesEngine(_TableView(table), overrides, calendar, watermarks)
    provider_ids = sorted(providers)

    async def publish(facts: list[CaseFact]) -> None:
        for start in range(0, len(facts), _FACTS_PER_RECORD):
            part = facts[start : start + _FACTS_PER_RECORD]
            key = part[0].provider_id.encode()
            value = pb.cases_pb2.CaseFacts(facts=part).SerializeToString()
            await cases.send(key=key, value=value)
            for fact in part:
                raised = alert(fact)
                if raised is not None:
                    await alerts.send(key=key, value=raised.SerializeToString())

    # Per partition of the state: the jg.events.v1 offsets applied (processors.rebuild).
    markers: dict[int, dict[int, int]] = {}

    async def ready(partition: int) -> dict[int, int]:
        """The partition's marker, once the partition is up to the event store."""
        marker = markers.get(partition)
        if marker is not None:
            return marker
        key = marker_key(partition)
        applied = decode_marker(table.get(key.encode()))

        async def apply_stored(events: list[Observed], seen: dict[int, int]) -> None:
            await publish(engine.process(events, time.time()))
            table[key.encode()] = encode_marker(seen)

        if rebuilder is not None:
            applied = await rebuilder.rebuild(partition, applied, apply_stored)
        markers[partition] = applied
        return applied

    def applied(partition: int, marker: dict[int, int], source: bytes | None) -> None:
        """Moves the partition's marker past the jg.events.v1 record just applied."""
        if source is None:
            return
        p, _, o = source.decode().partition(":")
        if int(o) > marker.get(int(p), -1):
            marker[int(p)] = int(o)
            table[marker_key(partition).encode()] = encode_marker(marker)

    async def forget(sender: Any, *args: Any, **kwargs: Any) -> None:
        """Partitions may come back with another state: check them again; indexes are rebuilt
        from what the table then holds."""
        markers.clear()
        engine.forget_indexes()

    app.on_partitions_revoked.connect(forget)  # type: ignore[arg-type]  # faust's stub is narrow

    @app.agent(events, name="rules-select")
    async def select(stream: Any) -> None:
        async for event in stream.events():
            provider = _header(event.headers, topics.HEADER_PROVIDER)
            if provider is None:
                continue
            try:
                batch_id, relevant = _relevant(event.value)
            except (DecodeError, TypeError) as exc:
                _skip("rules-select", event, exc)
                continue
            if relevant:
                source = f"{event.message.partition}:{event.message.offset}".encode()
                await rule_input.send(
                    key=provider,
                    value=encode_batch(batch_id, relevant),
                    headers=[
                        (topics.HEADER_PROVIDER, provider),
                        (topics.HEADER_EVENTS_OFFSET, source),
                    ],
                )

    @app.agent(authority, name="rules-authority")
    async def from_authority(stream: Any) -> None:
        async for event in stream.events():
            await rule_input.send(
                key=event.key, value=event.value, headers=[(topics.HEADER_SOURCE, b"authority")]
            )

    @app.agent(rule_input, name="rules-apply")
    async def apply(stream: Any) -> None:
        async for event in stream.events():
            provider = (event.key or b"").decode()
            marker = await ready(event.message.partition)
            if _header(event.headers, topics.HEADER_TICK) is not None:
                await publish(engine.tick(time.time(), provider))
                continue
            try:
                if _header(event.headers, topics.HEADER_SOURCE) == b"authority":
                    complaint = pb.authority_pb2.AuthorityComplaint.FromString(event.value)
                    await publish(
                        engine.process([observed_authority_complaint(complaint)], time.time())
                    )
                    continue
                batch = pb.EventBatch.FromString(event.value)
            except (DecodeError, TypeError) as exc:
                _skip("rules-apply", event, exc)
                continue
            seen = (observed(ev, provider) for ev in batch.events)
            await publish(engine.process([o for o in seen if o is not None], time.time()))
            applied(
                event.message.partition, marker, _header(event.headers, topics.HEADER_EVENTS_OFFSET)
            )

    @app.timer(interval=tick_seconds, name="rules-tick")  # type: ignore[untyped-decorator]
    async def tick() -> None:
        for provider in provider_ids:
            await rule_input.send(
                key=provider.encode(), value=b"", headers=[(topics.HEADER_TICK, b"1")]
            )


def _skip(agent: str, event: Any, exc: Exception) -> None:
    metrics.RULES_SKIPPED.labels(agent).inc()
    where = f"{event.message.topic}[{event.message.partition}]@{event.message.offset}"
    log.error("%s: record %s is unreadable (%s); skipped", agent, where, exc)


_RELEVANT_CODES = frozenset(pb.BODY_KINDS[k] for k in RELEVANT_KINDS if k in pb.BODY_KINDS)


def _relevant(value: bytes) -> tuple[str, list[bytes]]:
    """The batch id and the encoded events that can change rule state, in order."""
    scan = wire.scanner()
    scanned = None if scan is None else scan.events(value)
    if scanned is not None:
        batch_id, events = scanned
        return batch_id, [ev for kind, ev in events if kind in _RELEVANT_CODES]
    batch = pb.EventBatch.FromString(value)
    return batch.batch_id, [
        ev.SerializeToString() for ev in batch.events if ev.WhichOneof("body") in RELEVANT_KINDS
    ]


class _TableView(MutableMapping[str, bytes]):
    """A faust Table with str keys over bytes, as the MutableMapping the engine expects."""

    def __init__(self, table: Any) -> None:
        self._t = table

    def __getitem__(self, key: str) -> bytes:
        v = self._t.get(key.encode())
        if v is None:
            raise KeyError(key)
        return bytes(v)

    def __setitem__(self, key: str, value: bytes) -> None:
        self._t[key.encode()] = value

    def __delitem__(self, key: str) -> None:
        del self._t[key.encode()]

    def __iter__(self) -> Iterator[str]:
        return iter([k.decode() for k in list(self._t.keys())])

    def items(self) -> ItemsView[str, bytes]:
        """One pass over the table (the tick reads it all), not a lookup per key."""
        return {k.decode(): bytes(v) for k, v in list(self._t.items())}.items()

    def __len__(self) -> int:
        return len(self._t)
