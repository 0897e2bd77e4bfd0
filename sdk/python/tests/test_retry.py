"""Retry policy over a scripted publisher: which items are resent, and what is reported."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from events import generation
from jianguan_sdk import pb
from jianguan_sdk.retry import backoff_s, publish_reliably

S = pb.ingest_pb2


class Scripted:
    """Answers each call with the next scripted statuses, by event id."""

    def __init__(self, script: list[dict[str, int]]) -> None:
        self.script = script
        self.calls: list[list[str]] = []

    async def publish_batch(
        self, events: Iterable[pb.event_pb2.Event], batch_id: str = "", deadline_s: float = 30.0
    ) -> pb.BatchAck:
        sent = list(events)
        self.calls.append([e.envelope.event_id for e in sent])
        statuses = self.script[len(self.calls) - 1]
        ack = pb.BatchAck(received=len(sent))
        for i, e in enumerate(sent):
            status = statuses.get(e.envelope.event_id, S.ITEM_STATUS_ACCEPTED)
            if status == S.ITEM_STATUS_ACCEPTED:
                ack.accepted += 1
            else:
                ack.results.add(
                    index=i, event_id=e.envelope.event_id, status=status,  # type: ignore[arg-type]
                    field_path=f"events[{i}].x", reason="r",
                )  # fmt: skip
        return ack


async def _no_sleep(_: float) -> None:
    return None


def test_only_retryable_items_are_resent_and_duplicates_count_as_delivered() -> None:
    events = [generation(f"e{i}") for i in range(4)]
    publisher = Scripted(
        [
            {"e1": S.ITEM_STATUS_RATE_LIMITED, "e2": S.ITEM_STATUS_INVALID,
             "e3": S.ITEM_STATUS_UNAVAILABLE},
            {"e3": S.ITEM_STATUS_DUPLICATE},  # its first ack was lost, but it was stored
        ]
    )  # fmt: skip
    result = asyncio.run(publish_reliably(publisher, events, sleep=_no_sleep))
    assert publisher.calls == [["e0", "e1", "e2", "e3"], ["e1", "e3"]]
    assert (result.delivered, result.attempts, result.undelivered) == (3, 2, [])
    (rejected,) = result.rejected
    assert (rejected.index, rejected.event_id, rejected.field_path) == (2, "e2", "events[2].x")


def test_attempts_run_out() -> None:
    events = [generation("e0"), generation("e1")]
    limited = {"e1": S.ITEM_STATUS_RATE_LIMITED}
    publisher = Scripted([limited, limited, limited])
    result = asyncio.run(publish_reliably(publisher, events, max_attempts=3, sleep=_no_sleep))
    assert (result.delivered, result.undelivered, result.attempts) == (1, [1], 3)


def test_full_jitter_backoff_is_capped() -> None:
    assert backoff_s(1, 0.2, 10, lambda: 1.0) == 0.2
    assert backoff_s(4, 0.2, 10, lambda: 1.0) == 1.6
    assert backoff_s(20, 0.2, 10, lambda: 1.0) == 10
    assert backoff_s(3, 0.2, 10, lambda: 0.0) == 0.0


class CutShort:
    """Answers as the gateway does for a batch that stops being readable after two items."""

    async def publish_batch(
        self, events: Iterable[pb.event_pb2.Event], batch_id: str = "", deadline_s: float = 30.0
    ) -> pb.BatchAck:
        ack = pb.BatchAck(received=3, accepted=0)
        for i in range(3):
            ack.results.add(index=i, status=S.ITEM_STATUS_INVALID, reason="malformed")
        return ack


def test_items_past_what_the_gateway_received_are_refused_not_delivered() -> None:
    events = [generation(f"e{i}") for i in range(5)]
    result = asyncio.run(publish_reliably(CutShort(), events, sleep=_no_sleep))
    assert result.delivered == 0
    assert sorted(r.index for r in result.rejected) == [0, 1, 2, 3, 4]
    assert [r.event_id for r in result.rejected if r.index >= 3] == ["e3", "e4"]
