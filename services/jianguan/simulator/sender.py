"""Drives generated traffic through the gateway over gRPC streams and counts the outcomes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from jianguan.contracts import pb
from jianguan.simulator.traffic import ProviderTraffic
from jianguan_sdk.client import IngestClient


@dataclass
class Tally:
    sent: int = 0
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)

    def add(self, ack: pb.BatchAck) -> None:
        self.accepted += ack.accepted
        for r in ack.results:
            name = pb.ItemStatus.Name(r.status).removeprefix("ITEM_STATUS_")
            self.rejected[name] = self.rejected.get(name, 0) + 1


async def stream_provider(
    target: str,
    token: str,
    source: ProviderTraffic,
    total: int,
    batch_size: int,
    tally: Tally,
    rate_per_s: float | None = None,
) -> None:
    """Send ``total`` events of one provider in batches over one stream, paced by ``rate_per_s``."""

    async def batches() -> AsyncIterator[pb.EventBatch]:
        sent = 0
        started = time.monotonic()
        while sent < total:
            n = min(batch_size, total - sent)
            events = source.events(n, time.time())
            sent += n
            tally.sent += n
            yield pb.EventBatch(batch_id=f"{source.provider_id}-{sent}", events=events)
            if rate_per_s:
                ahead = sent / rate_per_s - (time.monotonic() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)

    async with IngestClient(target, token=token) as client:
        for head in await client.chain_heads(service_ids=source.services):
            source.resume(head.service_id, head.sequence, head.hash)
        async for ack in client.publish_stream(batches()):
            tally.add(ack)
