"""A provider process for the restart test: ``report`` spools COUNT events and sends them (until
killed); ``resume`` sends what an earlier process left in the spool and prints what it did."""

from __future__ import annotations

import json
import sys

from jianguan_sdk import builders
from jianguan_sdk.sync import Reporter


def main(mode: str, target: str, token: str, spool: str, count: int) -> None:
    with Reporter(target, token=token, spool_dir=spool, batch_size=100) as r:
        if mode == "report":
            for start in range(0, count, 500):
                events = [
                    builders.generation(request_model="m-1", event_id=f"sp-{i}")
                    for i in range(start, min(count, start + 500))
                ]
                r.report_many("svc-a" if start % 1000 == 0 else "svc-b", events)
            print(json.dumps({"spooled": count, "pending": r.pending}), flush=True)
        r.flush(300)
        print(json.dumps({"pending": r.pending}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
