"""Batch insert of event rows into the event store."""

from __future__ import annotations

import time

from jianguan import metrics
from jianguan.store.executor import Executor
from jianguan.store.processor import EVENT_COLUMNS, ColumnBatch


class EventWriter:
    """Writes whole ColumnBatches with one columnar insert each. Idempotent by table design
    (ReplacingMergeTree on the event's identity): writing the same rows twice stores one copy."""

    def __init__(self, executor: Executor) -> None:
        self._executor = executor

    def write(self, batch: ColumnBatch) -> int:
        n = len(batch)
        if not n:
            return 0
        started = time.perf_counter()
        self._executor.insert_columns("events", EVENT_COLUMNS, batch.columns())
        metrics.STORE_INSERT_SECONDS.observe(time.perf_counter() - started)
        metrics.STORE_BATCH_ROWS.observe(n)
        metrics.STORE_ROWS.inc(n)
        return n

    def close(self) -> None:
        self._executor.close()
