"""Batch inserts into the store: one columnar insert per accumulated batch."""

from __future__ import annotations

import time
from typing import Any, Protocol

from jianguan import metrics
from jianguan.store.executor import Executor
from jianguan.store.processor import RecordMeta


class Batch(Protocol):
    """Rows decoded from log records, accumulated for one insert (see processor, outcomes)."""

    table: str
    column_names: tuple[str, ...]
    undecodable: int

    def add_record(self, value: bytes, meta: RecordMeta, ingested_s: int) -> int: ...

    def columns(self) -> list[list[Any]]: ...

    def encoded(self) -> tuple[int, list[bytes]] | None: ...

    def __len__(self) -> int: ...


class BatchWriter:
    """Writes whole batches with one columnar insert each. Idempotent by table design
    (ReplacingMergeTree on the row's identity): writing the same rows twice stores one copy."""

    def __init__(self, executor: Executor, types: tuple[str, ...] | None = None) -> None:
        """``types``: the table's column types, for batches that hold encoded blocks (only a
        ClickHouse server executor takes those)."""
        self._executor = executor
        self._types = types

    def write(self, batch: Batch) -> int:
        n = len(batch)
        if not n:
            return 0
        started = time.perf_counter()
        block = batch.encoded()
        if block is not None:
            if self._types is None:
                raise TypeError("an encoded block needs the table's column types")
            rows, data = block
            self._executor.insert_encoded(  # type: ignore[attr-defined]
                batch.table, batch.column_names, self._types, rows, data
            )
        columns = batch.columns()
        if columns and columns[0]:
            self._executor.insert_columns(batch.table, batch.column_names, columns)
        metrics.STORE_INSERT_SECONDS.labels(batch.table).observe(time.perf_counter() - started)
        metrics.STORE_BATCH_ROWS.labels(batch.table).observe(n)
        metrics.STORE_ROWS.labels(batch.table).inc(n)
        return n

    def close(self) -> None:
        self._executor.close()
