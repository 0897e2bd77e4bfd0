"""Long-running loops (sinks, validators) and a host that runs several of them in one process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Protocol

log = logging.getLogger(__name__)


class Runnable(Protocol):
    """A long-running loop: start() connects, run() works until request_stop(), then drains."""

    async def start(self) -> None: ...

    async def run(self) -> None: ...

    def request_stop(self) -> None: ...


async def run_all(loops: Mapping[str, Runnable], stop: asyncio.Event) -> None:
    """Start every loop, run them until ``stop`` is set (or one of them fails), then ask each to
    stop and wait for all to drain. A failing loop is re-raised after the others drained, so the
    supervisor restarts the process rather than leaving it half-working."""
    for loop in loops.values():
        await loop.start()
    tasks: dict[asyncio.Task[None], str] = {
        asyncio.create_task(loop.run(), name=name): name for name, loop in loops.items()
    }
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
    failed = [t for t in tasks if t in done and t.exception() is not None]
    for t in failed:
        log.error("%s failed: %r", tasks[t], t.exception())
    for loop in loops.values():
        loop.request_stop()
    stopper.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if failed:
        raise RuntimeError(f"{tasks[failed[0]]} failed") from failed[0].exception()
