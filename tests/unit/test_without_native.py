"""Without the native scanner (a source install with no C compiler: the extension is optional),
every caller takes its Python reference path and gets the same answers."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PROGRAM = textwrap.dedent(
    """
    import sys
    sys.modules["jianguan.contracts._wire"] = None  # as if it had never been built
    sys.modules["jianguan.store._native_block"] = None
    import time
    from jianguan.accounts.registry import ProviderPolicy
    from jianguan.contracts import batch_events, pb, wire
    from jianguan.domain.dedup import RecentIds
    from jianguan.domain.ratelimit import RateLimiter
    from jianguan.ingest.admission import Admission
    from jianguan.processors.rules import relevant_events
    from jianguan.store.processor import ColumnBatch, RecordMeta
    from tests.helpers import chained

    assert wire.scanner() is None
    from jianguan.store import processor
    assert processor.native_block() is None
    assert isinstance(batch_events.batch_events(), batch_events.ReferenceEvents)
    events = chained("nn", 3)
    events[1].envelope.event_id = "not valid!"
    raw = pb.EventBatch(batch_id="b", events=events).SerializeToString()
    admission = Admission(RecentIds(1000), RateLimiter())
    policy = ProviderPolicy("acme-ai", 1000.0, 1000.0)
    now = time.time()
    assert admission.admit_encoded(policy, raw, now, 1000) is None  # the reference decides
    admitted = admission.admit(policy, pb.EventBatch.FromString(raw), raw, now)
    assert [r.index for r in admitted.rejections] == [1]
    batch = ColumnBatch(encoded=True)
    assert batch.add_record(raw, RecordMeta("acme-ai", 7, 0, 1), 8) == 3
    assert batch.encoded() is None and len(batch.columns()[0]) == 3
    assert relevant_events(raw) == []  # generations change no rule state
    print("reference paths ok")
    """
)


def test_every_caller_has_a_python_path_without_the_native_scanner() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "reference paths ok"
