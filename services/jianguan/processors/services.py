"""Services that run inside the faust worker next to the agents."""

from __future__ import annotations

import asyncio
from typing import Any

from mode import Service

from jianguan.store.sink import EventStoreSink


class EventStoreService(Service):
    """Hosts the event-store sink (jg.events.v1 → ClickHouse) in the faust worker."""

    def __init__(self, sink: EventStoreSink, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sink = sink
        self._task: asyncio.Task[None] | None = None

    async def on_start(self) -> None:
        await self.sink.start()
        self._task = asyncio.create_task(self.sink.run(), name="event-store-sink")

    async def on_stop(self) -> None:
        self.sink.request_stop()
        if self._task is not None:
            await self._task
