"""Flood benchmark: a well-behaved provider's latency while another provider floods the gateway.

One `jianguan up` (its own processes). A calm provider sends a 20-event batch every 50 ms
(PublishBatch) and its latencies are measured twice: alone (baseline), then while a hostile
provider, in a separate process, keeps ``--streams`` Publish streams open (reopening any the
gateway refuses) and sends batches of 100 events on each as fast as they are answered, far over
its rate limit (``--flood-rate`` events/s). Reports p50/p99/max of both phases, their ratio, and
what the flooder got (accepted, rate limited, streams refused). Writes JSON to
bench/results/flood-<timestamp>.json. The aim (issue "no provider can stop the platform"): the
calm provider's p99 under flood within 2× its baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc

from common import cpu_by_process, quantiles, write_result  # bench/common.py
from jianguan.accounts.registry import Provider, ProviderRegistry, token_digest
from jianguan.contracts import pb
from jianguan.runtime.launcher import launched_up
from jianguan.simulator.traffic import ProviderTraffic

CALM, FLOOD = "calm-ai", "flood-ai"
TOKENS = {CALM: "bench-calm", FLOOD: "bench-flood"}
_PUBLISH = "/jianguan.v1.IngestService/Publish"
_PUBLISH_BATCH = "/jianguan.v1.IngestService/PublishBatch"


def _batches(provider: str, n: int, size: int, seed: int) -> list[bytes]:
    src = ProviderTraffic(provider, ("svc-1",), seed=seed)
    return [
        pb.EventBatch(
            batch_id=f"{provider}-{seed}-{i}",
            events=src.events(size, time.time(), service="svc-1"),
        ).SerializeToString()
        for i in range(n)
    ]


async def _calm(target: str, batches: list[bytes], every_s: float) -> list[float]:
    """Send ``batches`` one at a time, one every ``every_s``; the latency of each."""
    latencies = []
    metadata = (("authorization", f"Bearer {TOKENS[CALM]}"),)
    async with grpc.aio.insecure_channel(target) as channel:
        call = channel.unary_unary(
            _PUBLISH_BATCH, request_serializer=None, response_deserializer=pb.BatchAck.FromString
        )
        for raw in batches:
            started = time.perf_counter()
            ack = await call(raw, metadata=metadata, timeout=30)
            latencies.append(time.perf_counter() - started)
            if ack.accepted != 20:
                raise SystemExit(f"the calm provider was refused: {ack}")
            await asyncio.sleep(max(0.0, every_s - (time.perf_counter() - started)))
    return latencies


def flood_from(target: str, token: str, streams: int, seconds: float, nice: int, out: Any) -> None:
    """The hostile provider (its own process): ``streams`` streams, reopened when refused. At
    ``nice``, it takes only CPU the platform leaves: the attacker's machine is not ours."""
    began = time.monotonic()
    os.nice(nice)
    payloads = _batches(FLOOD, 1500, 100, seed=11)  # unique ids: duplicates cost less
    seconds -= time.monotonic() - began  # making them counts against the flood's time
    counts = {"accepted": 0, "rate_limited": 0, "streams_refused": 0, "batches": 0}
    sent = 0

    def next_payload() -> bytes:
        nonlocal sent
        sent += 1
        return payloads[sent % len(payloads)]

    async def stream(channel: grpc.aio.Channel, stop_at: float) -> None:
        call_of = channel.stream_stream(
            _PUBLISH, request_serializer=None, response_deserializer=pb.BatchAck.FromString
        )
        metadata = (("authorization", f"Bearer {token}"),)
        while time.monotonic() < stop_at:
            queue: asyncio.Queue[bytes | None] = asyncio.Queue()
            for _ in range(16):
                queue.put_nowait(next_payload())

            async def requests(q: asyncio.Queue[bytes | None] = queue) -> Any:
                while (item := await q.get()) is not None:
                    yield item

            call = call_of(requests(), metadata=metadata)
            try:
                async for ack in call:
                    counts["batches"] += 1
                    counts["accepted"] += ack.accepted
                    counts["rate_limited"] += sum(
                        1 for r in ack.results if r.status == pb.ingest_pb2.ITEM_STATUS_RATE_LIMITED
                    )
                    queue.put_nowait(next_payload() if time.monotonic() < stop_at else None)
                    if time.monotonic() >= stop_at:
                        break
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                    counts["streams_refused"] += 1
                else:  # e.g. the gateway restarting
                    name = f"failed_{exc.code().name.lower()}"
                    counts[name] = counts.get(name, 0) + 1
                await asyncio.sleep(0.01)  # and open it again: a hostile client insists
            finally:
                call.cancel()

    async def main() -> None:
        stop_at = time.monotonic() + seconds
        channels = [grpc.aio.insecure_channel(target) for _ in range(8)]
        try:
            await asyncio.gather(
                *(stream(channels[i % len(channels)], stop_at) for i in range(streams))
            )
        finally:
            for channel in channels:
                await channel.close(None)

    asyncio.run(main())
    out.put(counts)


def run(
    streams: int, calls: int, flood_rate: float, nice: int, env: dict[str, str]
) -> dict[str, Any]:
    registry = ProviderRegistry(
        [
            Provider(CALM, CALM, token_digest(TOKENS[CALM]), rate_per_s=1e6, burst=1e6),
            Provider(FLOOD, FLOOD, token_digest(TOKENS[FLOOD]), rate_per_s=flood_rate,
                     burst=flood_rate),
        ]
    )  # fmt: skip
    every_s = 0.05
    with (
        tempfile.TemporaryDirectory(prefix="jianguan-bench-flood-") as tmp,
        launched_up(Path(tmp), registry, env) as up,
    ):
        asyncio.run(_calm(up.gateway, _batches(CALM, 20, 20, seed=1), every_s))  # warm-up
        baseline = asyncio.run(_calm(up.gateway, _batches(CALM, calls, 20, seed=2), every_s))
        results: multiprocessing.Queue[dict[str, int]] = multiprocessing.Queue()
        flood_seconds = calls * every_s + 20
        flooder = multiprocessing.Process(
            target=flood_from,
            args=(up.gateway, TOKENS[FLOOD], streams, flood_seconds, nice, results),
        )
        flooder.start()
        time.sleep(10)  # let the flood reach its steady state before measuring
        labels = {up.proc.pid: "up (supervisor)", **{pid: n for n, pid in up.pids.items()}}
        cpu_before = cpu_by_process(up.proc.pid, labels)
        flood_cpu_before = (
            cpu_by_process(flooder.pid, {flooder.pid: "flooder"}) if flooder.pid else {}
        )
        measured_at = time.perf_counter()
        flooded = asyncio.run(_calm(up.gateway, _batches(CALM, calls, 20, seed=3), every_s))
        measured_s = time.perf_counter() - measured_at
        cpu_after = cpu_by_process(up.proc.pid, labels)
        flood_cpu_after = (
            cpu_by_process(flooder.pid, {flooder.pid: "flooder"}) if flooder.pid else {}
        )
        cpu = {k: round((v - cpu_before.get(k, 0.0)) / measured_s, 2) for k, v in cpu_after.items()}
        cpu["flooder (client)"] = round(
            (flood_cpu_after.get("flooder", 0.0) - flood_cpu_before.get("flooder", 0.0))
            / measured_s,
            2,
        )
        flooder.join(flood_seconds + 60)
        counts = results.get(timeout=30) if not flooder.is_alive() else {}
        if flooder.is_alive():
            flooder.kill()
    base, under = quantiles(baseline), quantiles(flooded)
    return {
        "calm_provider": {"baseline": base, "under_flood": under},
        "p99_ratio": round(under["p99_ms"] / base["p99_ms"], 2),
        "cores_used_under_flood": cpu,
        "flood": {
            "streams": streams,
            "flooder_nice": nice,
            "rate_limit_events_per_s": flood_rate,
            "seconds": flood_seconds,
            **counts,
            "accepted_events_per_s": round(counts.get("accepted", 0) / flood_seconds),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--flood-rate", type=float, default=5000)
    parser.add_argument(
        "--flooder-nice",
        type=int,
        default=19,
        help="niceness of the flooding client (19: it runs on CPU the platform leaves, as it"
        " would on the provider's own machine; 0: it competes with the platform for CPU)",
    )
    parser.add_argument(
        "--gateway-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the platform, e.g. JIANGUAN_GATEWAY_MAX_IN_FLIGHT=8",
    )
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.gateway_env)
    result = {
        "bench": "flood",
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "gateway_settings": env,
        **run(args.streams, args.calls, args.flood_rate, args.flooder_nice, env),
    }
    write_result("flood", result)


if __name__ == "__main__":
    main()
