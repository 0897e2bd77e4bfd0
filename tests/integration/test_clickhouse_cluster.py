"""The store on a real ClickHouse cluster (2 shards × 2 replicas, ZooKeeper): the same scenario
library stored on one server and on the cluster gives every console answer equal, each
provider's rows on one shard, and every row once; a store restarted after an insert reached one
shard, and the whole platform with a replica killed mid-stream, lose and duplicate nothing.
The tests run in file order: the first two compare the cluster with one server, the later ones
add rows to the cluster only."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from jianguan.accounts.registry import Provider, ProviderRegistry, token_digest
from jianguan.contracts import topics
from jianguan.contracts.codec import encode_batch
from jianguan.kafka_io.admin import ensure_topics
from jianguan.runtime.broker import KafkaCluster
from jianguan.runtime.clickhouse import ClickHouseServer
from jianguan.runtime.clickhouse_cluster import LocalCluster
from jianguan.runtime.launcher import launched_up
from jianguan.simulator.sender import Tally, stream_provider
from jianguan.simulator.traffic import ProviderTraffic
from jianguan.store.executor import ClickHouseUrl, ServerExecutor
from jianguan.store.oversight import ALERTS, CASES, FILINGS, Filters, Oversight, Window
from jianguan.store.processor import ColumnBatch, RecordMeta
from jianguan.store.projections import drop_database
from jianguan.store.sink import event_store_sink
from jianguan.store.writer import BatchWriter
from tests.helpers import eventually, generation
from tests.scenarios.store import load_into

pytestmark = pytest.mark.integration

# Tables whose rows the scenario library writes, sharded by provider on the cluster.
SHARDED = ("events", "case_facts", "alerts", "filings", "ingest_outcomes", "report_card_snapshots")


@pytest.fixture(scope="module")
def stores(
    clickhouse: ClickHouseServer, clickhouse_cluster: LocalCluster
) -> Iterator[tuple[ServerExecutor, ServerExecutor, str]]:
    """(one server, the cluster, database), the same library stored in both at the same now."""
    name = f"cl_{uuid.uuid4().hex[:10]}"
    single = ServerExecutor(clickhouse.url("writer", name), create_database=True)
    clustered = ServerExecutor(clickhouse_cluster.url(database=name), create_database=True)
    now = float(int(time.time()))
    try:
        load_into(single, now)
        load_into(clustered, now)
        yield single, clustered, name
    finally:
        drop_database(single, name)
        drop_database(clustered, name)
        single.close()
        clustered.close()


def console_answers(ex: ServerExecutor, now: int) -> dict[str, Any]:
    """Every question the console asks of the store, over the whole library."""
    q = Oversight(ex, "cac-bj")  # the library's inspection among the answers (Art. 19 ¶2)
    out: dict[str, Any] = {
        "totals": q.totals(None, Filters()),
        "grades": q.grades(None),
        "cases_by_article": q.cases_by_article(None, Filters()),
        "alert_trend": q.alert_trend(None, Filters(), now),
        "ingest_health": q.ingest_health(None, now),
        "demands": q.demands(None, Filters()),
        "filings": q.filings(None, Filters()),
        "authority_complaints": q.authority_complaints(None, Filters()),
        "offshore": q.offshore(),
        "labeling": q.labeling(None, Filters(), now),
        "provider_index": q.provider_index(None, now),
        "services": q.services(None),
        "providers": q.providers(None),
    }
    for spec in (CASES, ALERTS, FILINGS):
        for sort in spec.sorts:
            for order in (sort, f"-{sort}"):
                # pages of 7 through the whole list: the order among equals must hold too
                first = q.listing(spec, None, Filters(), Window(offset=0, limit=7, sort=order))
                pages = [first] + [
                    q.listing(spec, None, Filters(), Window(offset=o, limit=7, sort=order))
                    for o in range(7, first.total + 7, 7)
                ]
                out[f"{spec.name}:{order}"] = [r for p in pages for r in p.rows]
                out[f"{spec.name}:total"] = pages[0].total
    for provider in q.providers(None):
        out[f"report_cards:{provider}"] = q.report_cards(provider)
        out[f"ingest_errors:{provider}"] = q.ingest_errors(provider, now)
        out[f"reporting_lag:{provider}"] = q.reporting_lag(provider, now)
        scoped = frozenset({provider})
        out[f"totals:{provider}"] = q.totals(scoped, Filters())
    for (case_id,) in ex.execute("SELECT DISTINCT case_id FROM case_facts ORDER BY case_id"):
        facts = q.case(case_id)
        out[f"case:{case_id}"] = facts
        if facts:
            ids = sorted({f.event_id for f in facts if f.event_id})
            out[f"evidence:{case_id}"] = q.events(facts[0].provider_id, ids)
    for (alert_id,) in ex.execute("SELECT DISTINCT alert_id FROM alerts ORDER BY alert_id"):
        out[f"alert:{alert_id}"] = q.alert(alert_id)
    return out


def test_every_console_answer_on_the_cluster_equals_one_servers(
    stores: tuple[ServerExecutor, ServerExecutor, str],
) -> None:
    single, clustered, _ = stores
    now = int(time.time())
    want, got = console_answers(single, now), console_answers(clustered, now)
    assert want["totals"].events > 0
    assert want["totals"].open_cases > 0
    assert len(want) > 100
    differing = sorted(k for k in want if want[k] != got.get(k))
    assert differing == [], {k: (want[k], got.get(k)) for k in differing[:3]}


def _local(cluster: LocalCluster, member: str, database: str) -> ServerExecutor:
    return ServerExecutor(dataclasses.replace(cluster.url(member, database=database), cluster=None))


def test_each_provider_on_one_shard_every_row_once(
    stores: tuple[ServerExecutor, ServerExecutor, str], clickhouse_cluster: LocalCluster
) -> None:
    single, clustered, name = stores
    for table in SHARDED:
        # raw rows, never FINAL: the cluster holds each row the one server holds, once
        (want,) = single.execute(f"SELECT count() FROM {table}")
        assert clustered.execute(f"SELECT count() FROM {table}") == [want], table
    shards: dict[str, set[str]] = {}
    for member in ("s1r1", "s2r1"):
        with _local(clickhouse_cluster, member, name) as ex:
            shards[member] = {
                p for (p,) in ex.execute("SELECT DISTINCT provider_id FROM events_shard")
            }
            for table in SHARDED[1:]:
                # ('' is the provider of facts about no provider, an offshore service's alerts)
                providers = {
                    p for (p,) in ex.execute(f"SELECT DISTINCT provider_id FROM {table}_shard")
                }
                assert providers - {""} <= shards[member], (member, table)
    assert shards["s1r1"], "both shards hold providers"
    assert shards["s2r1"], "both shards hold providers"
    assert not shards["s1r1"] & shards["s2r1"]
    everyone = {p for (p,) in single.execute("SELECT DISTINCT provider_id FROM events")}
    assert shards["s1r1"] | shards["s2r1"] == everyone


# Last in the module: it adds two providers' events to the cluster's store of the library.
def test_a_sink_restarted_after_an_insert_reached_one_shard_stores_the_rest_once(
    stores: tuple[ServerExecutor, ServerExecutor, str],
    clickhouse_cluster: LocalCluster,
    broker: KafkaCluster,
) -> None:
    """An insert through the Distributed table is atomic per shard only: one shard took its
    rows, the other did not, and the store process died. A sink started again (here: a new
    group, reading from the start) passes over the records their provider's shard holds and
    writes the others, each once."""
    _, clustered, name = stores
    url = clickhouse_cluster.url(database=name)
    topic = f"jg.events.cluster-{uuid.uuid4().hex[:8]}"
    ensure_topics(broker.bootstrap, [topic], partitions=1)
    now = time.time()
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    sent: list[tuple[bytes, RecordMeta]] = []
    try:
        for i in range(20):
            provider = ("cluster-ai-1", "cluster-ai-3")[i % 2]  # shard 1, shard 2
            events = [generation(f"{provider}-{i}-{j}", now) for j in range(5)]
            value = encode_batch(f"b{i}", [e.SerializeToString() for e in events])
            got = producer.send(
                topic, value, key=f"{provider}/svc-chat".encode(),
                headers=topics.event_headers(provider, int(now * 1000)),
            ).get(30)  # fmt: skip
            sent.append((value, RecordMeta(provider, int(now), got.partition, got.offset)))
    finally:
        producer.close()
    # what reached shard 1 before the store died: cluster-ai-1's rows of the whole insert
    partial = ColumnBatch(encoded=True)
    for value, meta in sent:
        if meta.provider_id == "cluster-ai-1":
            partial.add(value, meta, int(now))
    with ServerExecutor(url) as ex:
        BatchWriter(ex).write(partial)

    sink = event_store_sink(broker.bootstrap, topic, f"g-{uuid.uuid4().hex[:8]}", url)
    mine = "SELECT count(), uniqExact(event_id) FROM events WHERE provider_id LIKE 'cluster-ai-%'"

    async def run() -> None:
        await sink.start()
        task = asyncio.create_task(sink.run())
        for _ in range(600):  # at most a minute
            if clustered.execute(mine) == [(100, 100)]:
                break
            await asyncio.sleep(0.1)
        sink.request_stop()
        await task

    asyncio.run(run())
    assert clustered.execute(mine) == [(100, 100)]  # raw rows: every event once
    assert sink.passed_over == 10
    assert sink.rows_written == 50


# sipHash64 puts "up-ai-5" on shard 1 and "up-ai-1" on shard 2 (the test checks it).
PROVIDERS = {"up-ai-5": "token-five", "up-ai-1": "token-one"}
PER_PROVIDER = 10_000


def _one(url: ClickHouseUrl, sql: str) -> tuple[int, ...]:
    with ServerExecutor(url) as ex:
        return tuple(int(v) for v in ex.execute(sql)[0])


def _when(what: str, check: Callable[[], bool]) -> None:
    eventually(check, timeout_s=120, poll_s=0.2, what=what)


# Last too: `jianguan up` on the cluster's store of the library (its migrations all applied).
def test_a_replica_killed_mid_stream_loses_and_duplicates_nothing(
    stores: tuple[ServerExecutor, ServerExecutor, str],
    clickhouse_cluster: LocalCluster,
    tmp_path: Path,
) -> None:
    """The whole platform on the cluster: a replica killed and started again while events
    stream in through the gateway loses nothing and counts nothing twice."""
    database = stores[2]
    url = clickhouse_cluster.url(database=database)
    registry = ProviderRegistry(
        [Provider(p, p, token_sha256=token_digest(t)) for p, t in PROVIDERS.items()]
    )
    victim = "s2r1"
    try:
        with launched_up(tmp_path, registry, clickhouse=url) as up:
            tally = Tally()

            def send(provider: str, seed: int) -> None:
                src = ProviderTraffic(provider, ("svc-a", "svc-b"), seed=seed)
                asyncio.run(stream_provider(
                    up.gateway, PROVIDERS[provider], src, PER_PROVIDER, 200, tally,
                    rate_per_s=2000,
                ))  # fmt: skip

            senders = [threading.Thread(target=send, args=(p, i)) for i, p in enumerate(PROVIDERS)]
            for t in senders:
                t.start()
            stored = f"SELECT count() FROM events WHERE provider_id IN {tuple(PROVIDERS)}"
            _when("the store never started", lambda: _one(url, stored)[0] >= 3_000)
            clickhouse_cluster.kill(victim)
            # the stream goes on into the shard's other replica
            _when("no progress without the replica", lambda: _one(url, stored)[0] >= PER_PROVIDER)
            clickhouse_cluster.restart(victim)
            for t in senders:
                t.join(120)
            total = PER_PROVIDER * len(PROVIDERS)
            assert tally.sent == tally.accepted == total, tally.rejected
            _when("not everything stored", lambda: _one(url, stored)[0] >= total)
            # raw rows through the Distributed table, never FINAL
            mine = (
                "SELECT count(), uniqExact(provider_id, event_id) FROM events"
                f" WHERE provider_id IN {tuple(PROVIDERS)}"
            )
            assert _one(url, mine) == (total, total)
        # each replica holds its shard's rows once: the restarted one caught up
        local = {
            m.name: dataclasses.replace(
                clickhouse_cluster.url(m.name, database=database), cluster=None
            )
            for m in clickhouse_cluster.members
        }
        per_provider = (
            "SELECT count(), uniqExact(event_id) FROM events_shard WHERE provider_id = '{}'"
        )
        for shard, provider in ((1, "up-ai-5"), (2, "up-ai-1")):
            for replica in (1, 2):
                member = local[f"s{shard}r{replica}"]
                mine = per_provider.format(provider)
                _when(
                    f"s{shard}r{replica} never held {provider}'s rows",
                    lambda m=member, q=mine: _one(m, q)[0] >= PER_PROVIDER,
                )
                assert _one(member, mine) == (PER_PROVIDER, PER_PROVIDER)
                other = next(p for p in PROVIDERS if p != provider)
                assert _one(member, per_provider.format(other)) == (0, 0)
    finally:
        if victim not in clickhouse_cluster.running():
            clickhouse_cluster.restart(victim)
