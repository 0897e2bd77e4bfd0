"""The native EventBatch scanner against the Python reference it stands in for.

Properties, over every event the scenario library and the traffic generator produce, each of them
broken in every way the contract's rules name, and over random corruptions of the encodings:
- an event the scanner calls clean is one the Python validator accepts;
- every event the validator rejects, the scanner sends to the validator;
- columns from the scanner equal the columns protobuf decoding gives, row for row;
- admission through the scanner answers exactly as admission through the validator.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message

from jianguan.accounts.registry import ProviderPolicy
from jianguan.contracts import batch_events, pb, wire
from jianguan.contracts.batch_events import kind_of
from jianguan.contracts.codec import encode_batch
from jianguan.domain.dedup import RecentIds
from jianguan.domain.ratelimit import RateLimiter
from jianguan.domain.rules.active import RELEVANT_KINDS
from jianguan.ingest.admission import Admission, Admitted
from jianguan.processors import rules
from jianguan.simulator.library import default_base
from jianguan.simulator.traffic import ProviderTraffic
from jianguan.store import processor
from jianguan.store.processor import EVENT_COLUMNS, ColumnBatch, RecordMeta
from jianguan_sdk.validation import DEFAULT_LIMITS, TIMESTAMP_END_S, validate
from tests.scenarios.library import load_all

if TYPE_CHECKING:
    from jianguan.store._native_block import NativeBlock

NOW = time.time()
SCANNER = wire.build()
ACME = ProviderPolicy("acme", rate_per_s=1e9, burst=1e9)


def test_the_native_extensions_are_built() -> None:
    """Both are optional at install (a failed build is only a warning), so the suite says when
    one is missing rather than testing the Python paths twice."""
    assert SCANNER is not None, "jianguan.contracts._wire must be compiled (pip install -e .)"
    assert processor.native_block() is not None, "jianguan.store._native_block must be compiled"


def _block() -> NativeBlock:
    block = processor.native_block()
    assert block is not None
    return block


def _valid_events() -> list[pb.event_pb2.Event]:
    # based so that every event of every history lies in the past (none too far ahead of now)
    events = [ev for s in load_all(default_base(NOW)) for ev in s.events]
    traffic = ProviderTraffic("acme", ("svc-1", "svc-2"), seed=7)
    events += traffic.events(600, NOW, service="svc-1")
    kinds = {ev.WhichOneof("body") for ev in events}
    assert kinds == set(pb.BODY_KINDS), f"the fixture lacks kinds: {set(pb.BODY_KINDS) - kinds}"
    return events


VALID = _valid_events()


def _copy(ev: pb.event_pb2.Event) -> pb.event_pb2.Event:
    out = pb.event_pb2.Event()
    out.CopyFrom(ev)
    return out


def _scan(raw: bytes) -> Any:
    assert SCANNER is not None
    lim = DEFAULT_LIMITS
    return SCANNER.scan(raw, NOW, lim.max_future_skew_s, lim.max_age_s, lim.max_event_bytes)


def _clean_indices(raw: bytes, n: int) -> set[int]:
    scanned = _scan(raw)
    return set() if scanned is None else set(range(n)) - set(scanned[4])


def test_valid_events_are_mostly_clean_and_keep_their_envelope() -> None:
    raw = pb.EventBatch(batch_id="b-1", events=VALID).SerializeToString()
    scanned = _scan(raw)
    assert scanned is not None
    batch_id, ids, services, named, suspects, starts, ends, newest, links = scanned
    assert batch_id == "b-1"
    assert links == [
        (ev.envelope.stream_id, ev.envelope.sequence, ev.envelope.prev_hash) for ev in VALID
    ]
    assert ids == [ev.envelope.event_id for ev in VALID]
    assert services == [ev.envelope.service_id for ev in VALID]
    named_ids = [(i, ev.envelope.provider_id) for i, ev in enumerate(VALID)]
    assert named == [(i, p) for i, p in named_ids if p]
    assert newest == max(ev.envelope.occurred_at.seconds for ev in VALID)
    for i, ev in enumerate(VALID):
        assert pb.Event.FromString(raw[starts[i] : ends[i]]) == ev
    # Only text that looks like a phone number or an e-mail address may need a second look.
    assert len(suspects) <= len(VALID) // 20


# ---- every rule broken ----------------------------------------------------------------------


def _fields(msg: Message, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path to the holding message, field) for every field of ``msg`` and its set sub-messages."""
    descriptor: Descriptor = msg.DESCRIPTOR  # type: ignore[assignment]
    for f in descriptor.fields:
        if f.containing_oneof is not None and msg.WhichOneof(f.containing_oneof.name) != f.name:
            continue
        yield path, f
        if f.type == FieldDescriptor.TYPE_MESSAGE and not f.is_repeated and msg.HasField(f.name):
            yield from _fields(getattr(msg, f.name), (*path, f.name))


def _breakages(f: FieldDescriptor) -> list[Callable[[Message], None]]:
    rules_ = f.GetOptions().Extensions[pb.options_pb2.rules]
    name = f.name
    out: list[Callable[[Message], None]] = []

    def put(value: object) -> Callable[[Message], None]:
        if f.is_repeated:
            return lambda m: getattr(m, name).append(value)
        return lambda m: setattr(m, name, value)

    if f.type == FieldDescriptor.TYPE_STRING:
        n = rules_.max_len or 40
        texts = ["", "has space", "x" * (n + 1), "é" * (n + 1), "é" * n, "中" * n, "a,b", "Ab"]
        texts += ["tel 13812345678", "+86 138-1234-5678", "zhang.san@example.com"]
        texts += ["110101199003078515", "id:110101199003078515", "u_0006811094015a177f73f261"]
        texts += ["us", "USA", "U1"]
        out += [put(t) for t in texts]
    elif f.type == FieldDescriptor.TYPE_BYTES:
        out += [put(b"\x01" * k) for k in (0, 1, 31, 32, 33)]
    elif f.type == FieldDescriptor.TYPE_ENUM:
        out += [put(v) for v in (0, 1, 5, 24, 99, 255, 256, 300, -1)]
    elif f.type == FieldDescriptor.TYPE_MESSAGE and not f.is_repeated:
        out.append(lambda m: m.ClearField(name))
    elif f.type in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_UINT32):
        top = 2**64 - 1 if f.type == FieldDescriptor.TYPE_UINT64 else 2**32 - 1
        edges = {0, 1, 365, 366, top, rules_.max, min(rules_.max + 1, top)}
        out += [put(v) for v in sorted(edges)]
    elif f.type == FieldDescriptor.TYPE_INT32:
        out += [put(v) for v in (-1, 0, 999_999_999, 1_000_000_000)]
    elif f.type == FieldDescriptor.TYPE_INT64:
        out += [put(int(NOW + d)) for d in (-401 * 86400, -399 * 86400, 0, 299, 301, 86400)]
        edges = (-(2**63), -1, 0, TIMESTAMP_END_S - 1, TIMESTAMP_END_S, 2**63 - 1)
        out += [put(v) for v in edges]
    elif f.type == FieldDescriptor.TYPE_FLOAT:
        out += [put(v) for v in (-0.5, 0.0, 1.0, 1.5, float("nan"), float("inf"))]
    elif f.type == FieldDescriptor.TYPE_BOOL:
        out += [put(v) for v in (False, True)]
    return out


def _mutants() -> Iterator[pb.event_pb2.Event]:
    per_kind: dict[str, int] = {}
    for ev in VALID:
        kind = ev.WhichOneof("body") or ""
        per_kind[kind] = per_kind.get(kind, 0) + 1
        if per_kind[kind] > 3:
            continue
        for path, f in list(_fields(ev)):
            for break_it in _breakages(f):
                mutant = pb.Event()
                mutant.CopyFrom(ev)
                holder: Message = mutant
                for name in path:
                    holder = getattr(holder, name)
                try:
                    break_it(holder)
                except (ValueError, TypeError):
                    continue  # protobuf itself refuses the value
                yield mutant
    yield from _whole_event_breakages()


def _whole_event_breakages() -> Iterator[pb.event_pb2.Event]:
    base = VALID[0]
    no_body = pb.Event()
    no_body.CopyFrom(base)
    no_body.ClearField(no_body.WhichOneof("body") or "generation")
    yield no_body
    big = pb.Event()
    big.CopyFrom(base)
    big.generation.finish_reasons.extend([1] * (DEFAULT_LIMITS.max_event_bytes + 1))
    yield big
    for seq, hash_len in ((1, 0), (1, 32), (1, 5), (2, 0), (2, 32), (2, 31)):
        ev = pb.Event()
        ev.CopyFrom(base)
        ev.envelope.sequence = seq
        ev.envelope.prev_hash = b"\x07" * hash_len
        yield ev


def test_every_rejected_event_is_left_to_the_validator_and_clean_ones_are_valid() -> None:
    mutants = list(_mutants())
    rejected = 0
    for start in range(0, len(mutants), 400):
        chunk = mutants[start : start + 400]
        raw = pb.EventBatch(events=chunk).SerializeToString()
        clean = _clean_indices(raw, len(chunk))
        assert _scan(raw) is not None
        for i, ev in enumerate(chunk):
            problem = validate(ev, NOW)
            rejected += problem is not None
            if i in clean:
                assert problem is None, f"scanner passed an invalid event: {problem}\n{ev}"
    assert len(mutants) > 2000
    assert rejected > 600, "the mutations should break many rules"


# ---- encodings that are valid protobuf but not plain -----------------------------------------


def _tag(number: int, wire_type: int) -> bytes:
    return bytes([(number << 3) | wire_type])


def _oddities() -> list[bytes]:
    ev = VALID[0]
    raw = ev.SerializeToString()
    other = pb.Event(moderation=pb.bodies_pb2.Moderation(stage=1, risk_category=1, action=1))
    unpacked = pb.Event()
    unpacked.CopyFrom(ev)
    unpacked.generation.ClearField("finish_reasons")
    gen = unpacked.generation.SerializeToString() + _tag(7, 0) + b"\x01" + _tag(7, 0) + b"\x02"
    unpacked.ClearField("generation")
    return [
        raw + _tag(9, 0) + b"\x05",  # an unknown field
        raw + _tag(1, 2) + bytes([len(ev.envelope.SerializeToString())])
        + ev.envelope.SerializeToString(),  # the envelope twice (protobuf merges)
        raw + other.SerializeToString(),  # a second body: protobuf keeps the last
        unpacked.SerializeToString() + _tag(10, 2) + bytes([len(gen)]) + gen,  # unpacked enums
        raw + _tag(1, 0) + b"\x01",  # a known field with another wire type
    ]  # fmt: skip


@pytest.mark.parametrize("index", range(5))
def test_plain_encodings_only(index: int) -> None:
    event_raw = _oddities()[index]
    ev = pb.Event.FromString(event_raw)  # valid protobuf, every one
    raw = encode_batch("odd", [VALID[1].SerializeToString(), event_raw])
    scanned = _scan(raw)
    if scanned is not None and index != 3:  # unpacked repeated enums are plain enough
        assert 1 in scanned[4], "a not plainly encoded event must go to the validator"
    block = _block()
    if block.add(raw, "acme", 7, 8, 2, 9) is not None:  # only the unpacked enums may be plain
        assert index == 3
    if index != 3:
        assert block.rows == 0, "nothing may be added when the record is refused"
        batch = ColumnBatch(encoded=True)  # the store then decodes it with protobuf
        assert batch.add_record(raw, RecordMeta("acme", 7, 2, 9), 8) == 2
        assert batch.encoded() is None
        assert _rows(batch) == _python_rows(raw)
    relevant = rules.relevant_events(raw)
    decoded = pb.EventBatch.FromString(raw).events
    assert relevant == [e for e in decoded if e.WhichOneof("body") in RELEVANT_KINDS]
    assert ev == decoded[1]


# ---- columns ----------------------------------------------------------------------------------


def _rows(batch: ColumnBatch) -> list[list[Any]]:
    payload = EVENT_COLUMNS.index("payload")
    rows = []
    for row in zip(*batch.columns(), strict=True):
        values = list(row)
        values[payload] = pb.Event.FromString(values[payload])
        rows.append(values)
    event_id = EVENT_COLUMNS.index("event_id")
    return sorted(rows, key=lambda r: (r[event_id], str(r)))


def _python_rows(raw: bytes) -> list[list[Any]]:
    batch = ColumnBatch()
    batch._add_decoded(raw, RecordMeta("acme", 7, 2, 9), 8)
    return _rows(batch)


def test_relevant_events_match_the_body_kinds() -> None:
    raw = pb.EventBatch(batch_id="b-2", events=VALID).SerializeToString()
    expected = [ev for ev in VALID if ev.WhichOneof("body") in RELEVANT_KINDS]
    assert rules.relevant_events(raw) == expected


# Every implementation of the batch-events interface, run over the same records.
EVENT_READERS = {
    "reference": batch_events.ReferenceEvents(),
    "native": batch_events.NativeEvents(SCANNER, batch_events.ReferenceEvents()),
}


@pytest.mark.parametrize("reader", sorted(EVENT_READERS))
def test_every_batch_events_implementation_reads_the_same_events(reader: str) -> None:
    impl = EVENT_READERS[reader]
    every = {0, *pb.BODY_KINDS.values()}
    records = [pb.EventBatch(batch_id="b-3", events=VALID).SerializeToString()]
    records += [encode_batch("odd", [VALID[1].SerializeToString(), o]) for o in _oddities()]
    for raw in records:
        decoded = list(pb.EventBatch.FromString(raw).events)
        assert impl.of_kinds(raw, every) == decoded
        for kind in every:
            assert impl.of_kinds(raw, {kind}) == [e for e in decoded if kind_of(e) == kind]
    with pytest.raises(DecodeError):
        impl.of_kinds(b"\xff\xfe not protobuf", every)
    assert isinstance(batch_events.batch_events(), batch_events.NativeEvents)  # it is built


# ---- random corruption ------------------------------------------------------------------------


def _corruptions(raw: bytes, rng: random.Random) -> Iterator[bytes]:
    for _ in range(300):
        b = bytearray(raw)
        how = rng.randrange(4)
        if how == 0:
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] = rng.randrange(256)
        elif how == 1:
            del b[rng.randrange(len(b)) :]
        elif how == 2:
            at = rng.randrange(len(b))
            b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))
        else:
            at = rng.randrange(len(b))
            del b[at : at + rng.randint(1, 8)]
        yield bytes(b)


def test_corrupted_encodings_never_pass_an_invalid_event() -> None:
    rng = random.Random(11)
    sample = rng.sample(VALID, 12)
    raw = pb.EventBatch(batch_id="c", events=sample).SerializeToString()
    checked = 0
    for bad in _corruptions(raw, rng):
        scanned = _scan(bad)
        try:
            decoded: pb.EventBatch | None = pb.EventBatch.FromString(bad)
        except DecodeError:
            decoded = None
        if scanned is not None:
            _, ids, _, _, suspects, starts, ends, _, links = scanned
            for i in set(range(len(ids))) - set(suspects):
                ev = pb.Event.FromString(bad[starts[i] : ends[i]])
                assert validate(ev, NOW) is None
                env = ev.envelope
                assert links[i] == (env.stream_id, env.sequence, env.prev_hash)
                checked += 1
            if not suspects:
                assert decoded is not None
        if decoded is not None:
            # the native block takes it whole (every event a row, as protobuf reads it) or
            # refuses it (nothing added: protobuf decodes it); the values themselves are held
            # equal on a server (test_native_blocks_store_what_python_values_store)
            block = _block()
            added = block.add(bad, "acme", 7, 8, 2, 9)
            assert block.rows == (added or 0)
            assert added in (None, len(_python_rows(bad)))
    assert checked > 200


# ---- admission through the scanner answers as admission through the validator -----------------


def _answer(admitted: Admitted | None) -> Any:
    assert admitted is not None
    return (
        admitted.batch_id,
        admitted.received,
        sorted(
            (r.index, r.event_id, r.status, r.field_path, r.reason) for r in admitted.rejections
        ),
        sorted((g.service_id, tuple(g.indices), tuple(g.event_ids)) for g in admitted.groups),
        sorted(
            (g.service_id, list(pb.EventBatch.FromString(g.payload).events))
            for g in admitted.groups
        ),
    )


def test_admission_through_the_scanner_answers_like_the_reference() -> None:
    rng = random.Random(5)
    mutants = list(_mutants())
    for round_ in range(20):
        events = rng.sample(VALID, 30) + rng.sample(mutants, 30)
        rng.shuffle(events)
        events += events[:3]  # duplicates within the batch
        if round_ % 4 == 0:
            events[0] = _copy(events[0])  # VALID is shared with the other tests: never mutate it
            events[0].envelope.provider_id = "someone-else"
        raw = pb.EventBatch(batch_id=f"r{round_}", events=events).SerializeToString()
        limited = ProviderPolicy("acme", rate_per_s=1, burst=40 if round_ % 5 == 0 else 1e9)
        reference = Admission(RecentIds(10_000), RateLimiter()).admit(
            limited, pb.EventBatch.FromString(raw), raw, NOW
        )
        fast = Admission(RecentIds(10_000), RateLimiter()).admit_encoded(limited, raw, NOW, 10_000)
        assert _answer(fast) == _answer(reference)


def test_a_clean_single_service_batch_is_forwarded_as_received() -> None:
    events = [
        ev
        for ev in VALID
        if ev.envelope.service_id == "svc-1"
        and _clean_indices(pb.EventBatch(events=[ev]).SerializeToString(), 1) == {0}
    ][:50]
    assert len(events) == 50
    raw = pb.EventBatch(batch_id="fwd", events=events).SerializeToString()
    fast = Admission(RecentIds(1000), RateLimiter()).admit_encoded(ACME, raw, NOW, 10_000)
    assert fast is not None
    assert not fast.rejections
    (group,) = fast.groups
    assert group.payload is raw


def test_too_many_events_go_to_the_reference_path() -> None:
    raw = pb.EventBatch(events=VALID[:5]).SerializeToString()
    assert Admission(RecentIds(10), RateLimiter()).admit_encoded(ACME, raw, NOW, 4) is None


def test_the_native_pre_filter_flags_every_character_whose_nfkc_form_has_a_digit_or_at() -> None:
    """The scanner (contracts/wire_scan.c) looks at the text as sent and must send to the Python
    scan every text that scan could find something in: every code point whose NFKC form holds a
    digit or '@', enumerated over all of Unicode."""
    import time
    import unicodedata

    from jianguan.contracts import pb
    from jianguan.contracts.wire import scanner
    from jianguan.simulator.traffic import ProviderTraffic

    schema = scanner()
    if schema is None:
        pytest.fail("the native scanner is not built")
    wanted = [
        chr(cp)
        for cp in range(0x80, 0x110000)
        if not 0xD800 <= cp <= 0xDFFF
        and any(c in "0123456789@" for c in unicodedata.normalize("NFKC", chr(cp)))
    ]
    assert len(wanted) > 250
    now = time.time()
    traffic = ProviderTraffic("acme", ("svc",), seed=3).events(400, now, service="svc")
    report = next(ev for ev in traffic if ev.WhichOneof("body") == "incident_report")
    missed = []
    for ch in [*wanted, "甲"]:
        ev = pb.Event()
        ev.CopyFrom(report)
        ev.incident_report.summary = f"已上报{ch}"
        raw = pb.EventBatch(events=[ev]).SerializeToString()
        scanned = schema.scan(raw, now, 300.0, 86400.0, 1 << 20)
        clean = scanned is not None and 0 not in set(scanned[4])
        if clean and ch != "甲":
            missed.append(f"U+{ord(ch):04X}")
        if ch == "甲":
            assert clean, "a text with no digit or '@' stays on the native path"
    assert missed == []
