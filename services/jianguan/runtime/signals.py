"""Stopping a service process cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import signal


def stop_on_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Set ``stop`` on SIGINT or SIGTERM (the service then drains and exits)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


def stop_event() -> asyncio.Event:
    """An event set on SIGINT or SIGTERM; call it inside the running loop."""
    stop = asyncio.Event()
    stop_on_signals(asyncio.get_running_loop(), stop)
    return stop
