"""Writes the seed corpus of the batch fuzz target: the scenario library's events and simulator
traffic as EventBatches (one service per batch, as providers send them), plus a few edge cases."""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

from jianguan.contracts import pb
from jianguan.contracts.codec import encode_batch
from jianguan.simulator.library import load_all
from jianguan.simulator.traffic import ProviderTraffic

NOW = 1_800_000_000.0


def seeds() -> list[bytes]:
    out: list[bytes] = [b"", b"\x0a\x00", encode_batch("b", [b""])]
    for scenario in load_all(NOW - 3600):
        events = [e.SerializeToString() for e in scenario.events]
        for i in range(0, len(events), 4):
            out.append(encode_batch(f"s{i}", events[i : i + 4]))
    traffic = ProviderTraffic("fuzz-ai", ("svc-1", "svc-2"), seed=5)
    for n in (1, 3, 10):
        batch = pb.EventBatch(batch_id=f"t{n}", events=traffic.events(n, NOW, service="svc-1"))
        out.append(batch.SerializeToString())
    return out


def main() -> None:
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    written = 0
    for raw in seeds():
        path = target / hashlib.sha256(raw).hexdigest()[:16]
        if not path.exists():
            path.write_bytes(raw)
            written += 1
    print(f"{written} seeds written to {target} ({time.strftime('%F %T')})")


if __name__ == "__main__":
    main()
