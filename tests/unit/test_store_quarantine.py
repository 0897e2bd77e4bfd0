"""What the event-store batch sets aside, on each of its paths (native block and
protobuf), and the order its inserts keep."""

from __future__ import annotations

import time

import pytest

from jianguan.contracts import pb
from jianguan.contracts.codec import encode_batch
from jianguan.store.processor import ColumnBatch, RecordMeta
from jianguan.store.quarantine import OUT_OF_RANGE, UNDECODABLE, columns
from tests.helpers import generation

NOW = int(time.time())


def _record(*events: pb.event_pb2.Event) -> bytes:
    return encode_batch("b", [e.SerializeToString() for e in events])


def _bad(event_id: str, how: str) -> pb.event_pb2.Event:
    ev = generation(event_id, NOW)
    if how == "year-one":
        ev.envelope.occurred_at.seconds = -62135596800
    elif how == "version":
        ev.envelope.schema_version = 70_000  # UInt16 column
    elif how == "finish":
        ev.generation.finish_reasons.append(300)  # type: ignore[arg-type]  # Array(UInt8)
    else:
        ev.ClearField("generation")
        ev.service_filing.minor_daily_minutes = 70_000
    return ev


@pytest.mark.parametrize("encoded", [True, False])
@pytest.mark.parametrize("how", ["year-one", "version", "finish", "minutes"])
def test_an_unfit_event_is_set_aside_and_its_neighbours_kept(encoded: bool, how: str) -> None:
    batch = ColumnBatch(encoded=encoded)
    meta = RecordMeta("acme", NOW, 3, 77)
    added = batch.add(_record(generation("ok-1", NOW), _bad("bad", how), generation("ok-2", NOW)),
                      meta, NOW)  # fmt: skip
    assert added == 2
    assert len(batch) == 2
    assert batch.encoded() is None  # the record went to the values path whole
    assert sorted(batch.data["event_id"]) == ["ok-1", "ok-2"]
    assert len({len(c) for c in batch.columns()}) == 1  # every column has every row
    [aside] = batch.set_aside
    assert (aside.partition, aside.offset, aside.item, aside.event_id, aside.cause) == (
        3, 77, 2, "bad", OUT_OF_RANGE,
    )  # fmt: skip
    assert aside.reason.startswith("events[1] ")
    assert "does not fit the column" in aside.reason
    assert pb.Event.FromString(aside.payload).envelope.event_id == "bad"


def test_after_a_record_takes_the_values_path_so_do_the_later_ones() -> None:
    """The block is inserted before the values: the records in it must all precede those in
    the values, so that any insert holds a prefix of the records read."""
    batch = ColumnBatch(encoded=True)
    batch.add(_record(generation("a", NOW)), RecordMeta("acme", NOW, 0, 1), NOW)
    batch.add(_record(_bad("b", "minutes")), RecordMeta("acme", NOW, 0, 2), NOW)
    batch.add(_record(generation("c", NOW)), RecordMeta("acme", NOW, 0, 3), NOW)
    block = batch.encoded()
    assert block is not None
    assert block.rows == 1
    assert batch.data["event_id"] == ["c"]
    assert [a.offset for a in batch.set_aside] == [2]


def test_a_record_without_a_value_or_that_breaks_decoding_leaves_the_batch_as_it_was() -> None:
    batch = ColumnBatch()
    batch.add(_record(generation("a", NOW)), RecordMeta("acme", NOW, 0, 1), NOW)
    assert batch.add(None, RecordMeta("acme", NOW, 0, 2), NOW) == 0
    assert batch.add(b"\x12\x03\xff\xff\xff", RecordMeta("acme", NOW, 0, 3), NOW) == 0
    assert len(batch) == 1
    assert len({len(c) for c in batch.columns()}) == 1
    assert [(a.offset, a.cause) for a in batch.set_aside] == [(2, UNDECODABLE), (3, UNDECODABLE)]


def test_quarantine_rows_bound_the_reason() -> None:
    from jianguan.store.quarantine import MAX_REASON_CHARS, SetAside

    item = SetAside(1, 2, 0, "p", "", UNDECODABLE, "x" * 5000, b"\x00")
    cols = columns("jg.events.v1", [item], NOW)
    assert [c[0] for c in cols] == ["jg.events.v1", 1, 2, 0, "p", "", UNDECODABLE,
                                    "x" * MAX_REASON_CHARS, b"\x00", NOW]  # fmt: skip


def test_a_dead_letter_becomes_a_quarantine_row_under_where_it_was_read() -> None:
    from jianguan.store.dead_letters import DeadLetterBatch
    from jianguan.store.quarantine import COLUMNS, GIVEN_UP

    letter = pb.dead_letters_pb2.DeadLetter(
        topic="jg.inbound.acme-ai.v1", partition=2, offset=41, key=b"b-7", value=b"\x0a\x03b-7",
        consumer="inbound-validator", reason="RuntimeError: boom", attempts=5,
        provider_id="acme-ai",
    )  # fmt: skip
    letter.given_up_at.seconds = NOW
    batch = DeadLetterBatch()
    assert batch.add(letter.SerializeToString(), RecordMeta("", NOW, 0, 9), NOW + 5) == 1
    assert batch.add(b"\xff\xff", RecordMeta("", NOW, 0, 10), NOW + 5) == 0
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in zip(*batch.columns(), strict=True)]
    assert rows == [
        {
            "topic": "jg.inbound.acme-ai.v1", "kafka_partition": 2, "kafka_offset": 41,
            "item": 0, "provider_id": "acme-ai", "event_id": "", "cause": GIVEN_UP,
            "reason": "inbound-validator gave up after 5 attempts: RuntimeError: boom",
            "payload": b"\x0a\x03b-7", "quarantined_at": NOW,
        }
    ]  # fmt: skip
    assert [a.cause for a in batch.set_aside] == [UNDECODABLE]  # a record that is no letter
