"""Services that run inside the faust worker next to the agents."""

from __future__ import annotations

import asyncio
from typing import Any

from mode import Service

from jianguan.runtime.loops import Runnable


class LoopService(Service):
    """Hosts a Runnable (the store checks, the inbound validator) in the faust worker."""

    def __init__(self, loop_name: str, runnable: Runnable, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loop_name = loop_name
        self.runnable = runnable
        self._task: asyncio.Task[None] | None = None

    async def on_start(self) -> None:
        await self.runnable.start()
        self._task = asyncio.create_task(self.runnable.run(), name=self.loop_name)

    async def on_stop(self) -> None:
        self.runnable.request_stop()
        if self._task is not None:
            await self._task
