"""Chaos benchmark: the platform under faults and hostile providers at once, from outside.

One `jianguan up`. For ``--seconds`` (default 100):

- three well-behaved providers report through the SDK (``AsyncReporter``, spool on disk) at
  ``--rate`` events/s each, and a calm provider probes with a 20-event PublishBatch every 50 ms
  (its latency is the one a well-behaved provider sees);
- a hostile provider floods from its own process: 1,000 Publish streams, far over its rate
  limit (``bench/flood.py``'s flooder);
- a broken provider sends poison through the gateway (undecodable events inside batches, values
  over the contract's bounds, a batch cut short), and a broken writer puts poison directly on
  ``jg.events.v1`` (garbage, a record without a value, a year-1 timestamp);
- meanwhile each service process is SIGKILLed in turn (gateway, store, processors, alerting,
  console: the supervisor restarts them) and ClickHouse is stopped and started again.

Then it waits until every SDK spool is drained and the store has caught up, and reports, from the
raw ``events`` rows (never through FINAL): events the SDK was told were stored but are not
(lost), rows stored more than once (duplicated), what the store set aside (quarantined, by cause),
what the gateway refused of the poison, and the calm provider's latency over the whole run and
per fault. Writes bench/results/chaos-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import grpc
from kafka import KafkaProducer

from common import quantiles, write_result  # bench/common.py, beside this file
from flood import flood_from  # bench/flood.py
from jianguan.accounts.registry import Provider, ProviderRegistry, token_digest
from jianguan.contracts import pb, topics
from jianguan.contracts.codec import encode_batch
from jianguan.runtime.broker import running_embedded
from jianguan.runtime.clickhouse import server_binary
from jianguan.runtime.launcher import RunningUp, launched_up
from jianguan.runtime.process import port_open
from jianguan.store.executor import ServerExecutor
from jianguan_sdk import builders
from jianguan_sdk.chain import Chain
from jianguan_sdk.outcome import Outcome
from jianguan_sdk.reporter import AsyncReporter

STEADY = ("steady-a", "steady-b", "steady-c")
CALM, FLOOD, POISON = "calm-ai", "flood-ai", "poison-ai"
TOKENS = {p: f"chaos-{p}" for p in (*STEADY, CALM, FLOOD, POISON)}
SERVICES = ("gateway", "store", "processors", "alerting", "console")
_PUBLISH_BATCH = "/jianguan.v1.IngestService/PublishBatch"


# -- processes of the running platform -----------------------------------------------------------
def _service_pid(root: int, name: str) -> int | None:
    """The live pid of service ``name`` under ``root`` (it changes when the supervisor
    restarts it)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == root and f"jianguan.{name}".encode() in argv:
            return int(entry.name)
    return None


def _clickhouse_pid(config: Path) -> int | None:
    """The ClickHouse server running with ``config``."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if f"--config-file={config}".encode() in argv:
                return int(entry.name)
    return None


def _alive(pid: int) -> bool:
    """Running (not gone, not a zombie its parent has yet to reap)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class ClickHouseRestart:
    """Stops the stack's ClickHouse (SIGTERM) and starts it again from its own config file;
    the restarted server is this benchmark's to stop at the end."""

    def __init__(self, state_dir: Path) -> None:
        self.config = state_dir / "clickhouse" / "config.xml"
        self.proc: subprocess.Popen[bytes] | None = None

    def run(self, down_s: float, port: int) -> None:
        pid = _clickhouse_pid(self.config)
        if pid is None:
            raise RuntimeError("no ClickHouse server found")
        os.kill(pid, signal.SIGTERM)
        while _alive(pid):
            time.sleep(0.1)
        time.sleep(down_s)
        log = (self.config.parent / "log" / "restarted.log").open("ab")
        self.proc = subprocess.Popen(
            [server_binary(), f"--config-file={self.config}"], stdout=log, stderr=log
        )
        while not port_open("127.0.0.1", port):
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(60)


# -- traffic -------------------------------------------------------------------------------------
class Steady:
    """A well-behaved provider: the SDK's reporter, ``rate`` events/s, unique ids."""

    def __init__(self, provider: str, spool: Path) -> None:
        self.provider = provider
        self.spool = spool
        self.outcomes: list[asyncio.Future[Outcome]] = []

    async def run(self, target: str, rate: float, stop: threading.Event) -> None:
        async with AsyncReporter(
            target, token=TOKENS[self.provider], spool_dir=self.spool, batch_size=200
        ) as reporter:
            i = 0
            while not stop.is_set():
                events = [
                    builders.generation(request_model="m", event_id=f"{self.provider}-{j}")
                    for j in range(i, i + 100)
                ]
                self.outcomes.extend(reporter.report_many(f"svc-{i // 100 % 2}", events))
                i += 100
                await asyncio.sleep(100 / rate)
            await reporter.flush(600)

    def delivered(self) -> set[str]:
        return {f.result().event_id for f in self.outcomes if f.done() and f.result().ok}


class CalmProbe:
    """A provider making one 20-event call every 50 ms; the latency of each that is answered,
    and the calls that failed (the gateway killed under them), retried with the same ids."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (started, seconds)
        self.failed: list[float] = []
        self.accepted: set[str] = set()

    async def run(self, target: str, stop: threading.Event) -> None:
        metadata = (("authorization", f"Bearer {TOKENS[CALM]}"),)
        chain = Chain("svc-calm")
        n = 0
        while not stop.is_set():
            ids = [f"calm-{n + k}" for k in range(20)]
            n += 20
            batch = pb.EventBatch(
                batch_id=f"c{n}",
                events=[
                    chain.seal(builders.generation(request_model="m", event_id=e)) for e in ids
                ],
            )
            # each call on a fresh connection's worth of retries: answered or given up in 60 s
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    async with grpc.aio.insecure_channel(target) as channel:
                        call = channel.unary_unary(
                            _PUBLISH_BATCH,
                            request_serializer=pb.EventBatch.SerializeToString,
                            response_deserializer=pb.BatchAck.FromString,
                        )
                        ack = await call(batch, metadata=metadata, timeout=10)
                except grpc.aio.AioRpcError:
                    self.failed.append(time.time())
                    await asyncio.sleep(0.2)
                    continue
                self.samples.append((time.time(), time.perf_counter() - started))
                retry = {r.index for r in ack.results if r.status in _RETRYABLE}
                done = {r.index for r in ack.results}
                self.accepted |= {e for i, e in enumerate(ids) if i not in done}
                self.accepted |= {
                    ids[r.index]
                    for r in ack.results
                    if r.status == pb.ingest_pb2.ITEM_STATUS_DUPLICATE
                }
                if not retry:
                    break
                batch = pb.EventBatch(
                    batch_id=batch.batch_id, events=[batch.events[i] for i in sorted(retry)]
                )
                ids = [ids[i] for i in sorted(retry)]
            await asyncio.sleep(0.05)


_RETRYABLE = {pb.ingest_pb2.ITEM_STATUS_UNAVAILABLE, pb.ingest_pb2.ITEM_STATUS_RATE_LIMITED}


def _poison_through_the_gateway(target: str) -> dict[str, Any]:
    """What a broken provider sends: answered item by item, nothing of it stored but the
    valid events beside it."""
    chain = Chain("svc-p")
    good = [
        chain.seal(builders.generation(request_model="m", event_id=f"poison-ok-{i}"))
        for i in range(4)
    ]
    over = builders.generation(request_model="m", event_id="poison-over")
    over.generation.latency_ms = 4_000_000_000
    chain.seal(over)
    batches = [
        encode_batch(
            "p-garbage", [good[0].SerializeToString(), b"\x08", good[1].SerializeToString()]
        ),
        encode_batch("p-over", [over.SerializeToString(), good[2].SerializeToString()]),
        encode_batch("p-cut", [good[3].SerializeToString()] * 3)[:-4],
    ]

    async def send() -> list[pb.BatchAck]:
        acks = []
        async with grpc.aio.insecure_channel(target) as channel:
            call = channel.unary_unary(
                _PUBLISH_BATCH,
                request_serializer=None,
                response_deserializer=pb.BatchAck.FromString,
            )
            for raw in batches:
                acks.append(
                    await call(
                        raw, metadata=(("authorization", f"Bearer {TOKENS[POISON]}"),), timeout=30
                    )
                )
        return acks

    acks = asyncio.run(send())
    return {
        "batches": len(acks),
        "accepted": sum(a.accepted for a in acks),
        "refused_items": sum(len(a.results) for a in acks),
        "reasons": sorted({r.reason.split(":")[0][:80] for a in acks for r in a.results}),
    }


def _poison_on_the_log(bootstrap: str) -> int:
    """What a broken internal writer could put on jg.events.v1 (the store sets it aside)."""
    year_one = Chain("svc-y").seal(builders.generation(request_model="m", event_id="poison-y1"))
    year_one.envelope.occurred_at.seconds = -62135596800
    headers = topics.event_headers(POISON, int(time.time() * 1000))
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    values = [b"\xff\xfe garbage", None, encode_batch("y1", [year_one.SerializeToString()])]
    for value in values:
        producer.send(topics.EVENTS, value, key=f"{POISON}/svc-p".encode(), headers=headers)
    producer.flush(30)
    producer.close()
    return len(values)


# -- the run -------------------------------------------------------------------------------------
def _progress(steady: list[Steady], calm: CalmProbe, stop: threading.Event, started: float) -> None:
    """A line every five seconds, so a run that stalls shows where."""
    while not stop.wait(5):
        done = sum(1 for s in steady for f in list(s.outcomes) if f.done())
        print(
            f"{time.time() - started:6.1f}s  steady reported {sum(len(s.outcomes) for s in steady)}"
            f" answered {done}  calm calls {len(calm.samples)} failed {len(calm.failed)}",
            flush=True,
        )


def _query(up: RunningUp, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    ex = ServerExecutor(up.writer_url)
    try:
        return ex.execute(sql, params)
    finally:
        ex.close()


def run(seconds: float, rate: float, streams: int) -> dict[str, Any]:
    registry = ProviderRegistry(
        [
            Provider(p, p, token_digest(TOKENS[p]), rate_per_s=1e6, burst=1e6)
            for p in (*STEADY, CALM, POISON)
        ]
        + [Provider(FLOOD, FLOOD, token_digest(TOKENS[FLOOD]), rate_per_s=5000, burst=5000)]
    )
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="jianguan-bench-chaos-"))
        state = Path(tmp) / "up"
        restart = ClickHouseRestart(state)
        stack.callback(restart.stop)  # after `up` has stopped: its store flushes into it first
        up = stack.enter_context(launched_up(state, registry))
        listeners = running_embedded(state)
        assert listeners is not None
        stop = threading.Event()
        steady = [Steady(p, Path(tmp) / f"spool-{p}") for p in STEADY]
        calm = CalmProbe()

        def traffic() -> None:
            async def all_of_it() -> None:
                await asyncio.gather(
                    *(s.run(up.gateway, rate, stop) for s in steady), calm.run(up.gateway, stop)
                )

            asyncio.run(all_of_it())

        sender = threading.Thread(target=traffic)
        sender.start()
        faults: list[dict[str, Any]] = []
        started = time.time()

        def at(offset: float) -> None:
            time.sleep(max(0.0, started + offset - time.time()))

        # spawned, not forked: this process already runs gRPC, which a forked child cannot use
        spawn = multiprocessing.get_context("spawn")
        results: multiprocessing.Queue[dict[str, int]] = spawn.Queue()
        progress = threading.Thread(
            target=_progress, args=(steady, calm, stop, started), daemon=True
        )
        progress.start()
        at(5)
        flooder = spawn.Process(
            target=flood_from, args=(up.gateway, TOKENS[FLOOD], streams, seconds - 10, 19, results)
        )
        flooder.start()
        faults.append({"at": round(time.time() - started, 1), "fault": "flood starts"})
        at(8)
        poison_grpc = _poison_through_the_gateway(up.gateway)
        poison_log = _poison_on_the_log(listeners[0])
        faults.append({"at": round(time.time() - started, 1), "fault": "poison"})
        schedule = [(15 + 12 * i, name) for i, name in enumerate(SERVICES[:3])] + [
            (55, "clickhouse"),
            (75, "alerting"),
            (80, "console"),
        ]
        try:
            for offset, victim in schedule:
                if offset > seconds - 10:
                    break
                at(offset)
                t0 = time.time()
                if victim == "clickhouse":
                    restart.run(10, up.writer_url.port)
                    what = "restart clickhouse (10 s down)"
                else:
                    pid = _service_pid(up.proc.pid, victim)
                    if pid is not None:
                        os.kill(pid, signal.SIGKILL)
                    what = f"kill {victim}"
                faults.append(
                    {
                        "at": round(t0 - started, 1),
                        "fault": what,
                        "until": round(time.time() - started, 1),
                    }
                )
            at(seconds)
            stop.set()
            sender.join(900)
            flooder.join(120)
            flood = results.get(timeout=30) if not flooder.is_alive() else {}
            # until the store has caught up with everything accepted
            previous, stable = -1, 0
            while stable < 5:
                now = int(_query(up, "SELECT count() FROM events")[0][0])
                stable = stable + 1 if now == previous else 0
                previous = now
                time.sleep(1)
            return _report(up, steady, calm, flood, poison_grpc, poison_log, faults, started)
        finally:
            stop.set()
            if flooder.is_alive():
                flooder.kill()


def _report(
    up: RunningUp,
    steady: list[Steady],
    calm: CalmProbe,
    flood: dict[str, int],
    poison_grpc: dict[str, Any],
    poison_log: int,
    faults: list[dict[str, Any]],
    started: float,
) -> dict[str, Any]:
    providers: dict[str, Any] = {}
    for s in steady:
        delivered = s.delivered()
        rows = _query(
            up,
            "SELECT event_id, count() FROM events WHERE provider_id = %(p)s GROUP BY event_id",
            {"p": s.provider},
        )
        stored = {str(e): int(n) for e, n in rows}
        providers[s.provider] = {
            "reported": len(s.outcomes),
            "delivered": len(delivered),
            "not_delivered": len(s.outcomes) - len(delivered),
            "lost": len(delivered - stored.keys()),
            "duplicated_rows": sum(n - 1 for n in stored.values()),
        }
    calm_rows = dict(
        _query(
            up,
            "SELECT event_id, count() FROM events WHERE provider_id = %(p)s GROUP BY event_id",
            {"p": CALM},
        )
    )
    quarantined = _query(
        up, "SELECT cause, count() FROM quarantine FINAL GROUP BY cause ORDER BY cause"
    )
    poison_stored = _query(
        up, "SELECT event_id FROM events WHERE provider_id = %(p)s ORDER BY event_id", {"p": POISON}
    )
    latencies = [s for _, s in calm.samples]
    per_fault = {}
    for f in faults:
        window = [
            s for t, s in calm.samples if f["at"] - 1 <= t - started <= f.get("until", f["at"]) + 5
        ]
        per_fault[f["fault"]] = quantiles(window)
    flood_stored = int(
        _query(up, "SELECT count() FROM events WHERE provider_id = %(p)s", {"p": FLOOD})[0][0]
    )
    return {
        "steady_providers": providers,
        "lost": sum(p["lost"] for p in providers.values()) + len(calm.accepted - calm_rows.keys()),
        "duplicated_rows": sum(p["duplicated_rows"] for p in providers.values())
        + sum(int(n) - 1 for n in calm_rows.values()),
        "calm_provider": {
            "accepted": len(calm.accepted),
            "stored": len(calm_rows),
            "failed_calls": len(calm.failed),
            "latency": quantiles(latencies),
            "latency_around_each_fault": per_fault,
        },
        "quarantined": {str(c): int(n) for c, n in quarantined},
        "poison": {
            "through_the_gateway": poison_grpc,
            "stored_of_it": [str(r[0]) for r in poison_stored],
            "put_on_the_log": poison_log,
        },
        "flood": {**flood, "stored": flood_stored},
        "faults": faults,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=100)
    parser.add_argument("--rate", type=float, default=1000, help="events/s of each steady provider")
    parser.add_argument("--streams", type=int, default=1000, help="the flooder's streams")
    args = parser.parse_args()
    result = {
        "bench": "chaos",
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": args.seconds,
        "steady_rate_per_provider": args.rate,
        **run(args.seconds, args.rate, args.streams),
    }
    write_result("chaos", result)


if __name__ == "__main__":
    main()
