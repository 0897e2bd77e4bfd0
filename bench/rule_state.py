"""Rules-state benchmark: the rules engine's memory and cost per event over millions of events,
with its state in a dict (as faust's memory store holds it) and in RocksDB (as faust's RocksDB
store opens it, with the options the processors give it).

One compliant provider (the simulator's ``CompliantProvider``: cases open and close) feeds the
engine ``--events`` events in batches of 1,000, the clock ticking after each; each store runs in
a fresh process. Reports per tenth of the run the process's RSS and the units due some time;
and CPU microseconds per event. ``pass``: with RocksDB, RSS grows at most ``--tolerance`` from
the end of the third tenth to the end. Writes bench/results/rule-state-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from faust.stores.rocksdb import RocksDBOptions

from common import write_result  # bench/common.py, beside this file
from jianguan.contracts.observed import observed
from jianguan.processors.engine import RulesEngine
from jianguan.processors.rules import ROCKSDB_OPTIONS
from jianguan.processors.state import key_range
from jianguan.simulator.compliant import CompliantProvider

BATCH = 1_000
RATE = 7_000.0  # events/s of event time


class OnDisk:
    """A str → bytes mapping over one RocksDB database, opened as faust opens a partition's."""

    def __init__(self, path: Path) -> None:
        self.db = RocksDBOptions(**ROCKSDB_OPTIONS, use_rocksdict=True).open(path)

    def get(self, key: str, default: bytes | None = None) -> bytes | None:
        value = self.db.get(key.encode())
        return default if value is None else bytes(value)

    def __getitem__(self, key: str) -> bytes:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: bytes) -> None:
        self.db[key.encode()] = value

    def __iter__(self) -> Iterator[str]:
        return (bytes(k).decode() for k in self.db.keys())  # noqa: SIM118 (an Rdict)

    def items(self) -> Iterator[tuple[str, bytes]]:
        return ((bytes(k).decode(), bytes(v)) for k, v in self.db.items())

    def keys_between(self, low: str, high: str) -> Iterator[str]:
        return key_range(self.db, low.encode(), high.encode())


def _rss_mb() -> int:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 2**20


def _run_store(kind: str, events: int, out: Any) -> None:
    where = tempfile.mkdtemp(prefix="jianguan-bench-rule-state-")
    try:
        store: Any = {} if kind == "dict" else OnDisk(Path(where) / "p0.db")
        engine = RulesEngine(store)
        provider = CompliantProvider("rs-a", 1, "bench", ("chat", "image", "video", "kids"))
        at, done, cpu, tenths = time.time(), 0, 0.0, []
        step = events // 10
        while done < events:
            batch = provider.events(BATCH, at)
            seen = [o for o in (observed(ev, "rs-a") for _, ev in batch) if o is not None]
            at += BATCH / RATE
            started = time.process_time()
            engine.process(seen, at)
            engine.tick(at)
            cpu += time.process_time() - started
            done += len(batch)
            if done >= step * (len(tenths) + 1):
                due = sum(len(q) for q in (engine._dues or {}).values())
                tenths.append({"events": done, "rss_mb": _rss_mb(), "units_due": due})
        out.put({"us_per_event": round(cpu / done * 1e6, 2), "events": done, "tenths": tenths})
    finally:
        shutil.rmtree(where, ignore_errors=True)


def run(events: int, tolerance: float) -> dict[str, Any]:
    stores: dict[str, Any] = {}
    ctx = multiprocessing.get_context("spawn")
    for kind in ("dict", "rocksdb"):
        queue = ctx.Queue()
        proc = ctx.Process(target=_run_store, args=(kind, events, queue))
        proc.start()
        stores[kind] = queue.get()
        proc.join()
    rss = [t["rss_mb"] for t in stores["rocksdb"]["tenths"]]
    growth = (rss[-1] - rss[2]) / rss[2]
    return {
        "benchmark": "rule_state",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "events": events,
        "stores": stores,
        "pass": {"rocksdb_rss_growth_after_third_tenth": round(growth, 3),
                 "rocksdb_rss_flat": growth <= tolerance},
    }  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=4_000_000)
    ap.add_argument("--tolerance", type=float, default=0.1)
    args = ap.parse_args()
    result = run(args.events, args.tolerance)
    write_result("rule-state", result)
    return 0 if result["pass"]["rocksdb_rss_flat"] else 1


if __name__ == "__main__":
    sys.exit(main())
