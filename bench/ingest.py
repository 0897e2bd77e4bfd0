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
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from jianguan.contracts import pb
from jianguan.ingest.registry import Provider, ProviderRegistry, token_digest
from jianguan.runtime.kafka_admin import ensure_topics
from jianguan.runtime.process import free_port
from jianguan.simulator.traffic import ProviderTraffic
from jianguan.store.executor import ClickHouseUrl, ServerExecutor

PROVIDERS = ("bench-a", "bench-b", "bench-c", "bench-d")
_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> tuple[str, int, float] | None:
    """(command name, parent pid, CPU seconds used) of a live process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS


def cpu_by_process(root: int, labels: dict[int, str]) -> dict[str, float]:
    """CPU seconds of ``root`` and its descendants, keyed by label (or command name)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _proc_stat(int(entry.name))
            if st is not None:
                stats[int(entry.name)] = st
    out: dict[str, float] = {}

    def walk(pid: int) -> None:
        name, _, cpu = stats[pid]
        label = labels.get(pid, name)
        out[label] = out.get(label, 0.0) + cpu
        for child, (_, parent, _) in stats.items():
            if parent == pid:
                walk(child)

    if root in stats:
        walk(root)
    return out


def payloads(total: int, batch: int) -> dict[str, list[bytes]]:
    """Pre-encoded EventBatches per provider, so the load generator costs little CPU."""
    out: dict[str, list[bytes]] = {}
    per = total // len(PROVIDERS)
    for pid in PROVIDERS:
        src = ProviderTraffic(pid, ("svc-1", "svc-2"), seed=3)
        batches = []
        for i in range(0, per, batch):
            events = src.events(min(batch, per - i), time.time(), service="svc-1")
            batches.append(pb.EventBatch(batch_id=f"{pid}-{i}", events=events).SerializeToString())
        out[pid] = batches
    return out


async def send(target: str, token: str, batches: list[bytes]) -> int:
    async with grpc.aio.insecure_channel(target) as channel:
        call = channel.stream_stream(
            "/jianguan.v1.IngestService/Publish",
            request_serializer=None,
            response_deserializer=pb.BatchAck.FromString,
        )(iter(batches), metadata=(("authorization", f"Bearer {token}"),))
        accepted = 0
        async for ack in call:
            accepted += ack.accepted
        return accepted


def end_to_end(data: dict[str, list[bytes]], total: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="jianguan-bench-") as tmp:
        state = Path(tmp)
        tokens = {pid: f"bench-token-{pid}" for pid in PROVIDERS}
        reg = ProviderRegistry(
            [
                Provider(p, p, token_sha256=token_digest(t), rate_per_s=1e9, burst=1e9)
                for p, t in tokens.items()
            ]
        )
        (state / "providers.toml").write_text(reg.dump())
        port = free_port()
        env = {
            **os.environ,
            "JIANGUAN_STATE_DIR": str(state),
            "JIANGUAN_GATEWAY_PORT": str(port),
            "JIANGUAN_METRICS_PORT": str(free_port()),
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "jianguan.cli", "up"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            lines = []
            for line in proc.stdout:
                lines.append(line)
                if "Ctrl-C" in line:
                    break
            text = "".join(lines)
            m = re.search(r"clickhouse://writer@([\d.]+):(\d+)/(\w+)", text)
            assert m, text
            pw = json.loads((state / "clickhouse" / "credentials.json").read_text())["writer"]
            url = ClickHouseUrl(m.group(1), int(m.group(2)), "writer", pw, m.group(3))
            ex = ServerExecutor(url)
            pids = {int(p): n for n, p in re.findall(r"(\w+) pid (\d+)", text)}
            labels = {proc.pid: "up (supervisor)", **pids}
            cpu_before = cpu_by_process(proc.pid, labels)
            bench_before = time.process_time()
            started = time.perf_counter()

            async def all_streams() -> list[int]:
                return await asyncio.gather(
                    *(send(f"127.0.0.1:{port}", tokens[p], data[p]) for p in PROVIDERS)
                )

            accepted = sum(asyncio.run(all_streams()))
            acked = time.perf_counter() - started
            # Poll the cheap physical count while waiting; the exact count (FINAL) once at the end.
            while time.perf_counter() - started < 300:
                if int(ex.execute("SELECT count() FROM events")[0][0]) >= accepted:
                    break
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            cpu_after = cpu_by_process(proc.pid, labels)
            cpu = {k: cpu_after.get(k, 0.0) - cpu_before.get(k, 0.0) for k in cpu_after}
            cpu["load generator (this process)"] = time.process_time() - bench_before
            stored = int(ex.execute("SELECT count() FROM events FINAL")[0][0])
            ex.close()
            return {
                "events": total,
                "accepted": accepted,
                "stored": stored,
                "seconds_until_acked": round(acked, 3),
                "seconds_until_stored": round(elapsed, 3),
                "events_per_s": round(stored / elapsed),
                "cpu_us_per_event": {k: round(v / total * 1e6, 2) for k, v in sorted(cpu.items())},
            }
        finally:
            proc.terminate()
            proc.wait(60)


async def broker_alone(data: dict[str, list[bytes]], total: int) -> dict[str, float]:
    from jianguan.runtime.broker import Broker

    with tempfile.TemporaryDirectory(prefix="jianguan-bench-broker-") as tmp:
        broker = Broker(Path(tmp))
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
    out = Path(__file__).parent / "results" / f"ingest-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written to {out}")
    return 0 if e2e["stored"] == total else 1


if __name__ == "__main__":
    sys.exit(main())
