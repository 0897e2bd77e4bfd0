"""Ingest benchmark: sustained events/s gateway → Kafka → ClickHouse, and the broker's ceiling.

Both figures come from one run on this machine with the same payloads (EventBatch records of
``--batch`` events): (1) end to end through a running `jianguan up` (its own process: gateway and
event-store sink) from gRPC streams until every event is queryable in ClickHouse; (2) the broker
alone: the same records produced to and consumed from a topic with plain aiokafka. Writes JSON to
bench/results/ingest-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import grpc
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaTP

from common import (  # bench/common.py, beside this file
    cpu_by_process,
    publish,
    unlimited,
    write_result,
)
from jianguan.accounts.registry import ProviderRegistry
from jianguan.contracts import pb, topics
from jianguan.kafka_io.admin import ensure_topics
from jianguan.runtime.launcher import RunningUp, launched_up
from jianguan.simulator.traffic import ProviderTraffic
from jianguan.store.executor import ServerExecutor

PROVIDERS = ("bench-a", "bench-b", "bench-c", "bench-d")


def payloads_for(
    provider: str, count: int, batch: int, seed: int = 3, service: str = "svc-1"
) -> list[bytes]:
    """Pre-encoded EventBatches of one provider, so the load generator costs little CPU: one
    chain of ``service`` from sequence 1 (the gateway takes each chain once)."""
    src = ProviderTraffic(provider, ("svc-1", "svc-2"), seed=seed)
    return [
        pb.EventBatch(
            batch_id=f"{provider}-{seed}-{i}",
            events=src.events(min(batch, count - i), time.time(), service=service),
        ).SerializeToString()
        for i in range(0, count, batch)
    ]


def payloads(total: int, batch: int) -> dict[str, list[bytes]]:
    per = total // len(PROVIDERS)
    return {pid: payloads_for(pid, per, batch) for pid in PROVIDERS}


async def send(target: str, token: str, batches: list[bytes]) -> int:
    async with grpc.aio.insecure_channel(target) as channel:
        call = publish(channel)(iter(batches), metadata=(("authorization", f"Bearer {token}"),))
        accepted = 0
        async for ack in call:
            accepted += ack.accepted
        return accepted


def endpoint(banner: str, name: str) -> str:
    """The address `jianguan up` printed for ``name``."""
    for line in banner.splitlines():
        if line.strip().startswith(name):
            return line.split()[-1]
    raise LookupError(name)


def log_end(bootstrap: str) -> dict[int, int]:
    """The end offset of each partition of jg.events.v1."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        parts = [KafkaTP(topics.EVENTS, p) for p in consumer.partitions_for_topic(topics.EVENTS)]
        return {tp.partition: int(o) for tp, o in consumer.end_offsets(parts).items()}
    finally:
        consumer.close()


POSITION, LAG = "jianguan_rules_events_position", "jianguan_rules_events_lag_records"


def rules_gauge(urls: list[str], metric: str) -> dict[int, int]:
    """Per partition of jg.events.v1, a rules gauge (``POSITION``: the next offset they read;
    ``LAG``: records not read yet) from their metrics, the highest over the workers that
    answer."""
    out: dict[int, int] = {}
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 (loopback)
                text = r.read().decode()
        except OSError:  # a worker restarting: its partitions show as not read
            continue
        for m in re.finditer(rf'^{metric}\{{partition="(\d+)"\}} (\S+)', text, re.M):
            p = int(m.group(1))
            out[p] = max(out.get(p, 0), int(float(m.group(2))))
    return out


def rules_caught_up(up: RunningUp, end: dict[int, int]) -> bool:
    """Every rules worker has read every partition of jg.events.v1 up to ``end``."""
    position = rules_gauge(rules_metrics(up), POSITION)
    return all(position.get(p, 0) >= e for p, e in end.items())


def log_end_of(up: RunningUp) -> dict[int, int]:
    """The end offset of each partition of the platform's jg.events.v1, now."""
    return log_end(endpoint(up.banner, "kafka bootstrap (platform, internal)"))


def rules_of(cpu: dict[str, float]) -> float:
    """CPU seconds of the processes hosting the rules."""
    return sum(v for k, v in cpu.items() if k == "processors" or k.startswith("rules-"))


def rules_metrics(up: RunningUp) -> list[str]:
    """The metrics endpoints of the processes hosting the rules."""
    return [
        endpoint(up.banner, f"{n} metrics")
        for n in up.pids
        if n == "processors" or n.startswith("rules-")
    ]


TOKENS = {pid: f"bench-token-{pid}" for pid in PROVIDERS}


def end_to_end(data: dict[str, list[bytes]], total: int) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="jianguan-bench-") as tmp,
        launched_up(Path(tmp), ProviderRegistry(unlimited(TOKENS))) as up,
    ):
        return burst(up, data, total)


def burst(
    up: RunningUp,
    data: dict[str, list[bytes]],
    total: int,
    tokens: dict[str, str] = TOKENS,
) -> dict[str, Any]:
    """Through a running platform (PROVIDERS registered with TOKENS, and ``data``'s providers
    with ``tokens``): ``data`` sent as fast as the gateway takes it, timed until stored and
    until the rules have read all of it."""
    ex = ServerExecutor(up.writer_url)
    # Warm-up: one small batch per provider, stored, so the measurement starts with every
    # consumer joined and every connection open (sustained rate, not start-up time).
    warm = {p: payloads_for(p, 500, 500, seed=99, service="svc-2") for p in PROVIDERS}

    async def warm_up() -> list[int]:
        return await asyncio.gather(*(send(up.gateway, TOKENS[p], warm[p]) for p in PROVIDERS))

    warmed = sum(asyncio.run(warm_up()))
    deadline = time.monotonic() + 120
    while int(ex.execute("SELECT count() FROM events")[0][0]) < warmed:
        if time.monotonic() > deadline:
            raise SystemExit(
                "the warm-up batches were not stored in 120 s: see the state dir's log"
            )
        time.sleep(0.05)
    labels = {up.proc.pid: "up (supervisor)", **{pid: n for n, pid in up.pids.items()}}
    workers = sum(1 for n in up.pids if n == "processors" or n.startswith("rules-"))
    cpu_before = cpu_by_process(up.proc.pid, labels)
    bench_before = time.process_time()
    started = time.perf_counter()

    async def all_streams() -> list[int]:
        return await asyncio.gather(*(send(up.gateway, tokens[p], data[p]) for p in data))

    accepted = sum(asyncio.run(all_streams()))
    acked = time.perf_counter() - started
    # Poll the cheap physical count while waiting; the exact count (FINAL) once at the end.
    while time.perf_counter() - started < 300:
        if int(ex.execute("SELECT count() FROM events")[0][0]) >= accepted + warmed:
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    cpu_after = cpu_by_process(up.proc.pid, labels)
    cpu = {k: cpu_after.get(k, 0.0) - cpu_before.get(k, 0.0) for k in cpu_after}
    cpu["load generator (this process)"] = time.process_time() - bench_before
    stored = int(ex.execute("SELECT count() FROM events FINAL")[0][0]) - warmed
    ex.close()
    # The rules run at lower priority and catch up from the log once the burst is stored:
    # caught up when every rules worker's position in jg.events.v1 (its metrics) has
    # reached the log's end as it is now.
    end = log_end_of(up)
    while time.perf_counter() - started < 600 and not rules_caught_up(up, end):
        time.sleep(0.05)
    rules_idle = time.perf_counter() - started
    rules_total = rules_of(cpu_by_process(up.proc.pid, labels)) - rules_of(cpu_before)
    return {
        "events": total,
        "accepted": accepted,
        "stored": stored,
        "seconds_until_acked": round(acked, 3),
        "seconds_until_stored": round(elapsed, 3),
        "events_per_s": round(stored / elapsed),
        "cpu_us_per_event": {k: round(v / total * 1e6, 2) for k, v in sorted(cpu.items())},
        "seconds_until_rules_idle": round(rules_idle, 3),
        "events_per_s_rules_included": round(stored / rules_idle),
        "rules_cpu_us_per_event_total": round(rules_total / total * 1e6, 2),
        "rules_workers": workers,
    }


async def broker_alone(data: dict[str, list[bytes]], total: int) -> dict[str, float]:
    from jianguan.runtime.broker import KafkaCluster

    with tempfile.TemporaryDirectory(prefix="jianguan-bench-broker-") as tmp:
        broker = KafkaCluster(Path(tmp))
        broker.start()
        try:
            ensure_topics(broker.bootstrap, ["bench.events"], 6)
            producer = AIOKafkaProducer(
                bootstrap_servers=broker.bootstrap,
                acks="all",
                linger_ms=2,
                max_request_size=16 << 20,
            )
            await producer.start()
            started = time.perf_counter()
            futures = []
            for pid, batches in data.items():
                for raw in batches:
                    futures.append(await producer.send("bench.events", raw, key=pid.encode()))
            await asyncio.gather(*futures)
            produced = time.perf_counter() - started
            await producer.stop()
            # Assigned partitions, no group: a group join would add seconds of protocol waiting.
            consumer = AIOKafkaConsumer(
                bootstrap_servers=broker.bootstrap,
                auto_offset_reset="earliest",
                max_partition_fetch_bytes=8 << 20,
            )
            await consumer.start()
            consumer.assign([TopicPartition("bench.events", p) for p in range(6)])
            records = sum(len(b) for b in data.values())
            seen = 0
            while seen < records:
                got = await consumer.getmany(timeout_ms=500)
                seen += sum(len(v) for v in got.values())
            elapsed = time.perf_counter() - started
            await consumer.stop()
            return {
                "events": total,
                "records": records,
                "seconds_produce": round(produced, 3),
                "seconds_produce_and_consume": round(elapsed, 3),
                "events_per_s": round(total / elapsed),
            }
        finally:
            broker.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=600_000)
    ap.add_argument("--batch", type=int, default=500)
    args = ap.parse_args()
    total = (args.events // len(PROVIDERS)) * len(PROVIDERS)
    data = payloads(total, args.batch)
    ceiling = asyncio.run(broker_alone(data, total))
    e2e = end_to_end(data, total)
    result = {
        "benchmark": "ingest",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cores": os.cpu_count(),
        "batch_events": args.batch,
        "end_to_end": e2e,
        "broker_alone": ceiling,
        "ratio_end_to_end_to_broker": round(e2e["events_per_s"] / ceiling["events_per_s"], 3),
    }
    write_result("ingest", result)
    return 0 if e2e["stored"] == total else 1


if __name__ == "__main__":
    sys.exit(main())
