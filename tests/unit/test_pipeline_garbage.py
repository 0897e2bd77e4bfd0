"""Garbage in a batch is answered item by item: what can be read is judged, what cannot is
named, and a batch cut short accepts nothing but still answers every item it read."""

from __future__ import annotations

import asyncio

from jianguan.accounts.registry import Provider
from jianguan.contracts import pb
from jianguan.contracts.codec import encode_batch, split_batch
from jianguan.domain.dedup import RecentIds
from jianguan.domain.ratelimit import RateLimiter
from jianguan.ingest.admission import Admission
from jianguan.ingest.pipeline import IngestPipeline
from tests.helpers import chained

INVALID = pb.ingest_pb2.ITEM_STATUS_INVALID


class Log:
    def __init__(self) -> None:
        self.records: list[bytes] = []

    async def publish(self, provider_id: str, service_id: str, payload: bytes, ms: int) -> bool:
        self.records.append(payload)
        return True

    async def record_outcome(self, provider_id: str, outcome: bytes) -> bool:
        return True


def _handle(raw: bytes) -> tuple[pb.BatchAck, Log]:
    log = Log()
    pipeline = IngestPipeline(Admission(RecentIds(100), RateLimiter()), log, path="grpc")
    ack = asyncio.run(pipeline.handle(Provider("acme", "Acme"), raw))
    return ack, log


def test_an_undecodable_event_is_named_and_its_neighbours_accepted() -> None:
    good = [e.SerializeToString() for e in chained("g", 2)]
    raw = encode_batch("b-7", [good[0], b"\x08", good[1]])  # field 1 without its value
    ack, log = _handle(raw)
    assert (ack.batch_id, ack.received, ack.accepted) == ("b-7", 3, 2)
    [result] = ack.results
    assert (result.index, result.status, result.field_path) == (1, INVALID, "events[1]")
    assert "is not a valid jianguan.v1.Event" in result.reason
    [record] = log.records
    stored = pb.EventBatch.FromString(record)
    assert [e.envelope.event_id for e in stored.events] == ["g-0", "g-1"]
    assert stored.batch_id == "b-7"


def test_a_batch_cut_short_accepts_nothing_and_answers_what_it_read() -> None:
    events = chained("c", 3)
    raw = encode_batch("b-8", [e.SerializeToString() for e in events])[:-5]
    ack, log = _handle(raw)
    assert (ack.batch_id, ack.received, ack.accepted) == ("b-8", 3, 0)
    assert [(r.index, r.event_id, r.status) for r in ack.results] == [
        (0, "c-0", INVALID), (1, "c-1", INVALID), (2, "", INVALID),
    ]  # fmt: skip
    assert all("malformed from byte" in r.reason for r in ack.results)
    assert log.records == []


def test_garbage_throughout_is_one_answer_at_index_zero() -> None:
    ack, log = _handle(b"\xff\xfe not protobuf")
    assert (ack.received, ack.accepted) == (1, 0)
    assert [(r.index, r.status) for r in ack.results] == [(0, INVALID)]
    assert log.records == []


def test_split_batch_reads_ids_events_and_skips_unknown_fields() -> None:
    raw = encode_batch("id", [b"\x01", b"\x02"]) + b"\x18\x05" + b"\x25abcd"
    split = split_batch(raw)
    assert (split.batch_id, split.events, split.broken_at) == ("id", [b"\x01", b"\x02"], None)
    assert split_batch(b"\x12\x09abc").broken_at == 0
    assert split_batch(b"").events == []
