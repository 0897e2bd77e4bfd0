import asyncio

import pytest

from jianguan.runtime.loops import run_all


class Loop:
    def __init__(self, fail_after: float | None = None) -> None:
        self.fail_after = fail_after
        self.started = self.drained = False
        self._stop = asyncio.Event()

    async def start(self) -> None:
        self.started = True

    async def run(self) -> None:
        if self.fail_after is not None:
            await asyncio.sleep(self.fail_after)
            raise ValueError("broken")
        await self._stop.wait()
        self.drained = True

    def request_stop(self) -> None:
        self._stop.set()


def test_every_loop_runs_until_stop_then_drains() -> None:
    loops = {"a": Loop(), "b": Loop()}

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.05, stop.set)
        await run_all(loops, stop)

    asyncio.run(main())
    assert all(loop.started and loop.drained for loop in loops.values())


def test_a_failing_loop_stops_the_others_and_is_raised() -> None:
    healthy = Loop()

    async def main() -> None:
        await run_all({"healthy": healthy, "broken": Loop(fail_after=0.01)}, asyncio.Event())

    with pytest.raises(RuntimeError, match="broken failed"):
        asyncio.run(main())
    assert healthy.drained
