"""Fuzz target: EventBatch parsing at the gateway and the native scanner (atheris, libFuzzer).

Every input is a received EventBatch, as a provider could send it. For each, whatever it is:

- nothing raises: the outline, the top-level split, the native scan, admission through the
  scanner and through protobuf, the event store's native block and Python columns;
- the scanner never passes an invalid event: each event it does not mark suspect decodes and
  passes the Python validator (the reference);
- the outline (when it answers), the split (when it reads to the end) and protobuf agree on
  how many events there are;
- the event store keeps every column the same length, and sets aside what it cannot keep.

Run by ``make fuzz`` with the native scanner built with AddressSanitizer and UBSan
(``fuzz/run.sh``), for a bounded time, from the seed corpus of the scenario library and the
simulator. ``python fuzz/batch_fuzz.py --seeds-only DIR`` runs the checks once per seed.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import sysconfig

_SANITIZED = os.environ.get("JIANGUAN_FUZZ_NATIVE")
if _SANITIZED:  # the sanitizer builds of the extensions, loaded before the package imports them
    _SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")
    for _name in ("jianguan.contracts._wire", "jianguan.store._native_block"):  # in this order
        _path = os.path.join(_SANITIZED, _name.rsplit(".", 1)[1] + _SUFFIX)
        spec = importlib.util.spec_from_file_location(_name, _path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[_name] = module
        spec.loader.exec_module(module)

import atheris  # noqa: E402

with atheris.instrument_imports(include=["jianguan"]):
    from google.protobuf.message import DecodeError

    from jianguan.contracts import pb, wire
    from jianguan.contracts.codec import split_batch
    from jianguan.domain.dedup import RecentIds
    from jianguan.domain.ratelimit import RateLimiter
    from jianguan.ingest.admission import Admission, ProviderPolicy
    from jianguan.store.processor import ColumnBatch, RecordMeta, native_block
    from jianguan_sdk.validation import DEFAULT_LIMITS, validate

NOW = 1_800_000_000.0
POLICY = ProviderPolicy("fuzz-ai", rate_per_s=1e12, burst=1e12)
SCANNER = wire.scanner()
assert SCANNER is not None, "the native scanner is not built"
assert native_block() is not None, "the event store's native encoder is not built"


def check(raw: bytes) -> None:
    lim = DEFAULT_LIMITS
    outline = wire.outline(raw)
    split = split_batch(raw)
    try:
        whole: pb.EventBatch | None = pb.EventBatch.FromString(raw)
    except DecodeError:
        whole = None
    if whole is not None:
        # The split serves only batches protobuf refuses; where protobuf is more lenient (field
        # 0 inside an unknown group, say) it may stop early, never miscount.
        if split.broken_at is None:
            assert len(split.events) == len(whole.events)
        # the outline may decline (then the full path answers), never miscount
        assert outline is None or outline[1] == len(whole.events)
    if outline is not None and split.broken_at is None:
        assert outline[1] == len(split.events)

    scanned = SCANNER.scan(raw, NOW, lim.max_future_skew_s, lim.max_age_s, lim.max_event_bytes)
    if scanned is not None:
        _, ids, _, _, suspects, starts, ends, _, links = scanned
        assert len(links) == len(ids)
        suspect = set(suspects)
        for i in range(len(ids)):
            if i in suspect:
                continue
            event = pb.Event.FromString(raw[starts[i] : ends[i]])  # must decode
            problem = validate(event, NOW, lim)
            assert problem is None, f"the scanner passed an invalid event: {problem}"
            env = event.envelope
            assert links[i] == (env.stream_id, env.sequence, env.prev_hash), "a wrong chain place"

    admission = Admission(RecentIds(100_000), RateLimiter())
    admission.admit_encoded(POLICY, raw, NOW, 10_000)
    # the one call of the ingest paths answers every item it says it received
    judged = Admission(RecentIds(100_000), RateLimiter()).judge(POLICY, raw, NOW, 10_000)
    answered = {r.index for r in judged.rejections} | {i for g in judged.groups for i in g.indices}
    assert answered == set(range(judged.received)), "an item received and never answered"
    if whole is not None:
        Admission(RecentIds(100_000), RateLimiter()).admit(POLICY, whole, raw, NOW)

    for encoded in (True, False):
        batch = ColumnBatch(encoded=encoded)
        batch.add(raw, RecordMeta("fuzz-ai", int(NOW), 0, 1), int(NOW))
        assert len({len(c) for c in batch.columns()}) == 1, "columns of different lengths"
        block = batch.encoded()
        if block is not None:
            assert len(block.data) == len(block.types)


def test_one_input(data: bytes) -> None:
    check(data)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--seeds-only":
        seeds = sorted(os.listdir(sys.argv[2]))
        for name in seeds:
            with open(os.path.join(sys.argv[2], name), "rb") as f:
                check(f.read())
        print(f"{len(seeds)} seeds checked")
        return
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
