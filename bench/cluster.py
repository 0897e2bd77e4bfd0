"""What a ClickHouse cluster costs per event against one server, measured in one run.

The same pre-encoded events (the simulator's realistic mix, 8 providers, blocks of 50,000 rows
as the event-store sink writes them) are inserted through the store's own writer into a fresh
database on one ClickHouse 18.16 server and on a local cluster of 2 shards × 2 replicas
(`runtime.clickhouse_cluster`, Debian's ZooKeeper), one after the other. For each: wall time and
events/s of the inserts, then (cluster) the time until every replica holds its shard's rows, and
the CPU seconds of every server process over that whole window, per event, from /proc. On this
2-core machine the four servers share two cores, so the cluster's wall-clock rate says little;
its CPU per event (on the server that routes, on each replica) is what `docs/capacity.md`
extrapolates from. Results: bench/results/cluster-<time>.json.

    .venv/bin/python bench/cluster.py [--events 400000]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import usage_by_process, write_result  # bench/common.py, beside this file
from ingest import payloads_for  # bench/ingest.py, beside this file
from jianguan.runtime.clickhouse import ClickHouseServer
from jianguan.runtime.clickhouse_cluster import LocalCluster
from jianguan.store.executor import ClickHouseUrl, ServerExecutor
from jianguan.store.migrate import migrate
from jianguan.store.processor import ColumnBatch, RecordMeta
from jianguan.store.writer import BatchWriter

PROVIDERS = tuple(f"bench-{c}" for c in "abcdefgh")
BLOCK = 50_000
RECORD = 500  # events per Kafka record, as the bench's gateway batches


def records(total: int) -> list[tuple[bytes, RecordMeta]]:
    """The ingest bench's pre-encoded batches, as the events topic would hold them."""
    now = int(time.time())
    out = []
    per = total // len(PROVIDERS)
    for n, provider in enumerate(PROVIDERS):
        for value in payloads_for(provider, per, RECORD, seed=n):
            out.append((value, RecordMeta(provider, now, n % 6, len(out))))
    return out


def blocks(recs: list[tuple[bytes, RecordMeta]]) -> list[ColumnBatch]:
    out, batch = [], ColumnBatch(encoded=True)
    for value, meta in recs:
        batch.add(value, meta, meta.received_s)
        if len(batch) >= BLOCK:
            out.append(batch)
            batch = ColumnBatch(encoded=True)
    if batch:
        out.append(batch)
    return out


def cpu(pids: dict[int, str]) -> dict[str, float]:
    return {pids[p]: usage_by_process(p, {p: pids[p]}).get(pids[p], (0.0, 0))[0] for p in pids}


def measure(
    url: ClickHouseUrl, pids: dict[int, str], data: list[ColumnBatch], total: int,
    replicas: list[ClickHouseUrl], table: str, copies: int,
) -> dict[str, Any]:  # fmt: skip
    with ServerExecutor(url, create_database=True) as ex:
        migrate(ex)
    before = cpu(pids)
    started = time.monotonic()
    with ServerExecutor(url) as ex:
        writer = BatchWriter(ex)
        for batch in data:
            writer.write(batch)
    inserted = time.monotonic() - started
    # every replica holds its shard's rows: each row is on ``copies`` servers
    while True:
        counts = []
        for r in replicas:
            with ServerExecutor(r) as ex:
                counts.append(int(ex.execute(f"SELECT count() FROM {table}")[0][0]))
        if sum(counts) >= copies * total:
            break
        time.sleep(0.2)
    settled = time.monotonic() - started
    after = cpu(pids)
    used = {k: after[k] - before[k] for k in pids.values()}
    with ServerExecutor(url) as ex:
        (stored,) = ex.execute("SELECT count() FROM events")[0]
    assert stored == total, (stored, total)
    return {
        "insert_s": round(inserted, 2),
        "events_per_s_inserted": round(total / inserted),
        "until_every_replica_s": round(settled, 2),
        "rows_per_server": counts,
        "cpu_s": {k: round(v, 2) for k, v in used.items()},
        "cpu_us_per_event": {k: round(v / total * 1e6, 2) for k, v in used.items()},
        "cpu_us_per_event_all_servers": round(sum(used.values()) / total * 1e6, 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=400_000)
    args = ap.parse_args()
    total = args.events // (len(PROVIDERS) * RECORD) * len(PROVIDERS) * RECORD
    print(f"encoding {total} events …", file=sys.stderr)
    data = blocks(records(total))
    with tempfile.TemporaryDirectory(prefix="jg-bench-cluster-") as tmp:
        single = ClickHouseServer(Path(tmp) / "single", database="bench")
        cluster = LocalCluster(Path(tmp) / "cluster", database="bench")
        single.start()
        try:
            cluster.start()
            one = measure(
                single.url(), {single.pid: "server"}, data, total, [single.url()], "events", 1
            )
            local = [
                dataclasses.replace(cluster.url(m.name), cluster=None) for m in cluster.members
            ]
            pids = {cluster.servers[m.name].pid: m.name for m in cluster.members}
            many = measure(cluster.url(), pids, data, total, local, "events_shard", 2)
        finally:
            cluster.stop()
            single.stop()
    result = {
        "events": total,
        "providers": len(PROVIDERS),
        "block_rows": BLOCK,
        "clickhouse": "18.16 (Debian)",
        "one_server": one,
        "cluster_2x2": many,
        "cluster_cpu_over_one_server": round(
            many["cpu_us_per_event_all_servers"] / one["cpu_us_per_event_all_servers"], 2
        ),
        "note": "s1r1 routes every insert (the URL's server) and holds shard 1's first replica",
    }
    write_result("cluster", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
