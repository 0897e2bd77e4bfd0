"""Batch inserts into the store: one columnar insert per accumulated batch."""

from __future__ import annotations

import time
from typing import Any, Protocol

from jianguan import metrics
from jianguan.store import quarantine
from jianguan.store.executor import Executor, ServerExecutor
from jianguan.store.processor import EncodedBlock, RecordMeta
from jianguan.store.quarantine import SetAside


class Batch(Protocol):
    """Rows decoded from log records, accumulated for one insert (see processor, outcomes)."""

    table: str
    column_names: tuple[str, ...]
    set_aside: list[SetAside]

    def add(self, value: bytes | None, meta: RecordMeta, ingested_s: int) -> int: ...

    def columns(self) -> list[list[Any]]: ...

    def encoded(self) -> EncodedBlock | None: ...

    def __len__(self) -> int: ...


class BatchWriter:
    """Writes whole batches with one columnar insert each. Idempotent by table design
    (ReplacingMergeTree on the row's identity): writing the same rows twice stores one copy."""

    def __init__(self, executor: Executor) -> None:
        self._executor = executor

    def write(self, batch: Batch) -> int:
        n = len(batch)
        if not n:
            return 0
        started = time.perf_counter()
        block = batch.encoded()
        if block is not None:
            if not isinstance(self._executor, ServerExecutor):
                raise RuntimeError("encoded blocks go only to a ClickHouse server")
            self._executor.insert_encoded(
                batch.table, batch.column_names, block.types, block.rows, block.data
            )
        columns = batch.columns()
        if columns and columns[0]:
            self._executor.insert_columns(batch.table, batch.column_names, columns)
        metrics.STORE_INSERT_SECONDS.labels(batch.table).observe(time.perf_counter() - started)
        metrics.STORE_BATCH_ROWS.labels(batch.table).observe(n)
        metrics.STORE_ROWS.labels(batch.table).inc(n)
        return n

    def quarantine(self, table: str, topic: str, items: list[SetAside], now_s: int) -> None:
        """Set ``items`` (read from ``topic``, meant for ``table``) aside in the quarantine
        table. Their values are strings and small numbers: the store cannot refuse them."""
        if not items:
            return
        self._executor.insert_columns(
            "quarantine", quarantine.COLUMNS, quarantine.columns(topic, items, now_s)
        )
        for item in items:
            metrics.STORE_QUARANTINED.labels(table, item.cause).inc()

    def close(self) -> None:
        self._executor.close()
