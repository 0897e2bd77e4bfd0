"""Turns jg.dead-letters.v1 records (records a consumer gave up on, ``kafka_io.consumer_loop``)
into ``quarantine`` rows, under the topic, partition and offset they were read from, so that
`jianguan quarantine` shows them beside what the sinks set aside. Pure."""

from __future__ import annotations

from jianguan.contracts import pb
from jianguan.store import quarantine
from jianguan.store.processor import ColumnarBatch, RecordMeta


class DeadLetterBatch(ColumnarBatch):
    table = "quarantine"
    column_names = quarantine.COLUMNS

    def add_record(self, value: bytes, meta: RecordMeta, ingested_s: int) -> int:
        letter = self._decode(pb.dead_letters_pb2.DeadLetter, value, meta)
        if letter is None:
            return 0
        reason = (f"{letter.consumer} gave up after {letter.attempts} attempts: {letter.reason}")[
            : quarantine.MAX_REASON_CHARS
        ]
        self._row({
            "topic": letter.topic,
            "kafka_partition": letter.partition,
            "kafka_offset": letter.offset,
            "item": 0,
            "provider_id": letter.provider_id,
            "event_id": "",
            "cause": quarantine.GIVEN_UP,
            "reason": reason,
            "payload": letter.value,
            "quarantined_at": letter.given_up_at.seconds or ingested_s,
        })  # fmt: skip
        return 1
