"""Queries the services make of the event store (parameterised, through FINAL where counted)."""

from __future__ import annotations

from jianguan.store.executor import Executor


def recent_event_ids(executor: Executor, window_s: int, limit: int) -> list[tuple[str, str]]:
    """(provider_id, event_id) of events received in the last ``window_s`` seconds, oldest first,
    at most the ``limit`` newest: what a restarted gateway needs to keep answering DUPLICATE."""
    rows = executor.execute(
        "SELECT provider_id, event_id FROM events"
        " WHERE received_at >= now() - %(window)s"
        " ORDER BY received_at DESC LIMIT %(limit)s",
        {"window": int(window_s), "limit": int(limit)},
    )
    return [(str(p), str(e)) for p, e in reversed(rows)]
