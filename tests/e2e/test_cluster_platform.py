"""The whole platform on a ClickHouse cluster (2 shards × 2 replicas): a replica killed and
started again while events stream in loses nothing and counts nothing twice."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from jianguan.accounts.registry import Provider, ProviderRegistry, token_digest
from jianguan.runtime.clickhouse_cluster import LocalCluster
from jianguan.runtime.launcher import launched_up
from jianguan.simulator.sender import Tally, stream_provider
from jianguan.simulator.traffic import ProviderTraffic
from jianguan.store.executor import ClickHouseUrl, ServerExecutor
from jianguan.store.projections import drop_database

pytestmark = pytest.mark.integration
# sipHash64 puts "cluster-ai-1" on shard 1 and "cluster-ai-3" on shard 2 (the test checks it).
PROVIDERS = {"cluster-ai-1": "token-one", "cluster-ai-3": "token-three"}
PER_PROVIDER = 20_000


def _one(url: ClickHouseUrl, sql: str) -> tuple[int, ...]:
    with ServerExecutor(url) as ex:
        return tuple(int(v) for v in ex.execute(sql)[0])


def _when(what: str, check: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_a_replica_killed_mid_stream_loses_and_duplicates_nothing(
    clickhouse_cluster: LocalCluster, tmp_path: Path
) -> None:
    database = f"up_{uuid.uuid4().hex[:10]}"
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
            stored = "SELECT count() FROM events"
            _when("the store never started", lambda: _one(url, stored)[0] >= 3_000)
            clickhouse_cluster.kill(victim)
            # the stream goes on into the shard's other replica
            _when("no progress without the replica", lambda: _one(url, stored)[0] >= 20_000)
            clickhouse_cluster.restart(victim)
            for t in senders:
                t.join(120)
            total = PER_PROVIDER * len(PROVIDERS)
            assert tally.sent == tally.accepted == total, tally.rejected
            _when("not everything stored", lambda: _one(url, stored)[0] >= total)
            # raw rows through the Distributed table, never FINAL
            assert _one(url, "SELECT count(), uniqExact(provider_id, event_id) FROM events") == (
                total, total,
            )  # fmt: skip
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
        for shard, provider in ((1, "cluster-ai-1"), (2, "cluster-ai-3")):
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
        with ServerExecutor(url) as ex:
            drop_database(ex, database)
