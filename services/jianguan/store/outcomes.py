"""Turns jg.ingest-outcomes.v1 records into `ingest_outcomes` columns. Pure."""

from __future__ import annotations

from jianguan.contracts import pb
from jianguan.store.processor import ColumnarBatch, RecordMeta

OUTCOME_COLUMNS: tuple[str, ...] = (
    "provider_id", "path", "outcome_id", "batch_id", "received_at", "received", "accepted",
    "results.item_index", "results.event_id", "results.status", "results.field_path",
    "results.reason", "kafka_partition", "kafka_offset",
)  # fmt: skip


class OutcomeBatch(ColumnarBatch):
    """Rows for ingest_outcomes, one per handled batch."""

    table = "ingest_outcomes"
    column_names = OUTCOME_COLUMNS

    def add_record(self, value: bytes, meta: RecordMeta, ingested_s: int) -> int:
        o = self._decode(pb.ingest_pb2.IngestOutcome, value, meta)
        if o is None:
            return 0
        d = self.data
        # The provider comes from the record header (written by the platform), as for events.
        d["provider_id"].append(meta.provider_id)
        d["path"].append(o.path)
        d["outcome_id"].append(o.outcome_id)
        d["batch_id"].append(o.batch_id)
        d["received_at"].append(o.received_at.seconds)
        d["received"].append(o.received)
        d["accepted"].append(o.accepted)
        results = o.results
        d["results.item_index"].append([r.index for r in results])
        d["results.event_id"].append([r.event_id for r in results])
        d["results.status"].append([r.status for r in results])
        d["results.field_path"].append([r.field_path for r in results])
        d["results.reason"].append([r.reason for r in results])
        d["kafka_partition"].append(meta.partition)
        d["kafka_offset"].append(meta.offset)
        self.rows += 1
        return 1
