"""Duplicate-memory benchmark: the cost of a claim as the memory fills and keeps evicting.

Claims fresh ids into ``RecentIds`` from empty to ``--multiple`` times its capacity and reports
the mean cost of a claim (ns) per tenth of the run, with the memory's size in ids and in
accounted bytes. Writes bench/results/dedup-<timestamp>.json; ``flat`` is true when no tenth
costs more than twice the first.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from common import write_result  # bench/common.py, beside this file
from jianguan.domain.dedup import RecentIds


def run(capacity: int, multiple: int) -> dict[str, Any]:
    ids = RecentIds(capacity)
    total = capacity * multiple
    step = total // 10
    # ids of the shape providers use (uuid-like, 36 characters), made before timing
    tenths: list[dict[str, Any]] = []
    n = 0
    for _ in range(10):
        keys = [f"{n + i:08d}-1b2c-4d5e-8f90-a1b2c3d4e5f6" for i in range(step)]
        claim = ids.claim
        started = time.perf_counter_ns()
        for k in keys:
            claim("bench-provider", k)
        spent = time.perf_counter_ns() - started
        n += step
        tenths.append(
            {
                "claimed": n,
                "ns_per_claim": round(spent / step, 1),
                "ids_held": len(ids),
                "bytes_held": ids.bytes,
            }
        )
    first = tenths[0]["ns_per_claim"]
    return {
        "capacity_ids": capacity,
        "claims": total,
        "by_tenth": tenths,
        "worst_to_first": round(max(t["ns_per_claim"] for t in tenths) / first, 2),
        "flat": all(t["ns_per_claim"] <= 2 * first for t in tenths),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--capacity", type=int, default=2_000_000)
    ap.add_argument("--multiple", type=int, default=10)
    args = ap.parse_args()
    result = {
        "benchmark": "dedup",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **run(args.capacity, args.multiple),
    }
    write_result("dedup", result)
    return 0 if result["flat"] else 1


if __name__ == "__main__":
    sys.exit(main())
