"""Filling an ingest path's duplicate memory from the event store without waiting for it: the path
serves at once, and the ids arrive when ClickHouse answers (retried with backoff meanwhile).

Until they arrive, an event the store already holds and its provider sends again is accepted
once more; the event store keeps both copies and every regulator's view (``FINAL``,
``events_unique``) counts it once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from jianguan.domain.dedup import RecentIds

log = logging.getLogger(__name__)
KnownIds = Callable[[], Iterable[tuple[str, str]]]


async def remember_known_ids(
    dedup: RecentIds, known_ids: KnownIds, path: str, max_delay_s: float = 10.0
) -> int:
    """Load ``known_ids`` (retrying until it succeeds) into ``dedup``; the number remembered."""
    delay = 0.5
    while True:
        try:
            known = await asyncio.to_thread(lambda: list(known_ids()))
            break
        except Exception as exc:
            log.warning(
                "%s: recent event ids not loaded yet (%s); serving meanwhile, retry in %.1fs",
                path, exc, delay,
            )  # fmt: skip
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay_s)
    for provider_id, event_id in known:
        dedup.remember(provider_id, event_id)
    log.info("%s: remembered %d recent event ids", path, len(known))
    return len(known)
