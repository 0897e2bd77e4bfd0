"""Provider client library: the same ``publish_batch`` API over gRPC or Kafka."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from jianguan.contracts import pb


class BatchPublisher(Protocol):
    async def publish_batch(
        self, events: Iterable[pb.event_pb2.Event], batch_id: str = "", deadline_s: float = 30.0
    ) -> pb.BatchAck:
        """Publish one batch; the ack lists every item that was not accepted."""
        ...
