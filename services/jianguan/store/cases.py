"""jg.cases.v1 / jg.alerts.v2 records → `case_facts` / `alerts` columns. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jianguan.contracts import pb
from jianguan.contracts.facts import phrases_of
from jianguan.contracts.observed import DEMAND_FIELDS, DEMAND_KINDS
from jianguan.domain import said
from jianguan.store import quarantine
from jianguan.store.processor import ColumnarBatch, RecordMeta

CASE_FACT_COLUMNS: tuple[str, ...] = (
    "provider_id", "case_id", "fact_id", "kind", "rule_id", "article", "severity", "service_id",
    "subject", "obligation", "at", "due", "event_id", "late", "detected_at", "dues.obligation",
    "dues.due", "revision", "retracted", "parameters.name", "parameters.value",
    "obligations_met", "obligations_missed", "closed_at",
)  # fmt: skip
ALERT_COLUMNS: tuple[str, ...] = (
    "provider_id", "alert_id", "rule_id", "article", "severity", "service_id", "case_id",
    "summary", "due", "detected_at", "evidence", "revision", "retracted", "parameters.name",
    "parameters.value", "said",
)  # fmt: skip


def _parameters(parameters: Iterable[Any]) -> dict[str, list[str]]:
    """A decision's parameters (``jianguan.v1.Parameter``) as the Nested ``parameters`` columns
    of case_facts and alerts."""
    listed = list(parameters)
    return {
        "parameters.name": [p.name for p in listed],
        "parameters.value": [p.value for p in listed],
    }


class CaseFactBatch(ColumnarBatch):
    table = "case_facts"
    column_names = CASE_FACT_COLUMNS

    def add_record(self, value: bytes, meta: RecordMeta, ingested_s: int) -> int:
        decoded = self._decode(pb.cases_pb2.CaseFacts, value, meta)
        if decoded is None:
            return 0
        facts = decoded.facts
        for f in facts:
            self._row(
                {
                    "provider_id": f.provider_id, "case_id": f.case_id, "fact_id": f.fact_id,
                    "kind": f.kind, "rule_id": f.rule_id, "article": f.article,
                    "severity": f.severity, "service_id": f.service_id, "subject": f.subject,
                    "obligation": f.obligation, "at": f.at.seconds, "due": f.due.seconds,
                    "event_id": f.event_id, "late": int(f.late),
                    "detected_at": f.detected_at.seconds,
                    "dues.obligation": [d.obligation for d in f.dues],
                    "dues.due": [d.due.seconds for d in f.dues],
                    "revision": f.revision, "retracted": int(f.retracted),
                    **_parameters(f.parameters),
                    "obligations_met": list(f.obligations_met),
                    "obligations_missed": list(f.obligations_missed),
                    "closed_at": f.closed_at.seconds,
                }
            )  # fmt: skip
        return len(facts)


class AlertBatch(ColumnarBatch):
    table = "alerts"
    column_names = ALERT_COLUMNS

    def add_record(self, value: bytes, meta: RecordMeta, ingested_s: int) -> int:
        decoded = self._decode(pb.cases_pb2.Alerts, value, meta)
        if decoded is None:
            return 0
        for a in decoded.alerts:
            self._row(
                {
                    "provider_id": a.provider_id, "alert_id": a.alert_id, "rule_id": a.rule_id,
                    "article": a.article, "severity": a.severity, "service_id": a.service_id,
                    "case_id": a.case_id, "summary": a.summary, "due": a.due.seconds,
                    "detected_at": a.detected_at.seconds, "evidence": list(a.evidence),
                    "revision": a.revision, "retracted": int(a.retracted),
                    **_parameters(a.parameters), "said": said.encode(phrases_of(a)),
                }
            )  # fmt: skip
        return len(decoded.alerts)


class AuthorityComplaintBatch(ColumnarBatch):
    table = "authority_complaints"
    column_names: tuple[str, ...] = (
        "provider_id", "authority_ref", "authority_id", "service_id", "received_at",
        "forwarded_at", "category", "payload",
    )  # fmt: skip

    def add_record(self, value: bytes, meta: RecordMeta, ingested_s: int) -> int:
        c = self._decode(pb.authority_pb2.AuthorityComplaint, value, meta)
        if c is None:
            return 0
        self._row(
            {
                "provider_id": c.provider_id, "authority_ref": c.authority_ref,
                "authority_id": meta.provider_id, "service_id": c.service_id,
                "received_at": c.received_at.seconds, "forwarded_at": c.forwarded_at.seconds,
                "category": c.category, "payload": value,
            }
        )  # fmt: skip
        return 1


class AuthorityActionBatch(ColumnarBatch):
    """jg.authority-actions.v1 → ``authority_actions``: each revision of a demand as recorded,
    by the authority its credential names (the record's header)."""

    table = "authority_actions"
    column_names: tuple[str, ...] = (
        "provider_id", "authority_id", "kind", "ref", "revision", "service_ids", "issued_at",
        "due_at", "withdrawn", "recorded_at", "payload",
    )  # fmt: skip

    def add_record(self, value: bytes, meta: RecordMeta, ingested_s: int) -> int:
        action = self._decode(pb.authority_pb2.AuthorityAction, value, meta)
        if action is None:
            return 0
        kind = action.WhichOneof("action")
        if kind is None:
            reason = "an AuthorityAction with no action"
            self._put_aside(meta, 0, "", quarantine.UNDECODABLE, reason, value)
            return 0
        ref, due = DEMAND_FIELDS[kind]
        d = getattr(action, kind)
        self._row(
            {
                "provider_id": d.provider_id, "authority_id": meta.provider_id,
                "kind": DEMAND_KINDS[kind], "ref": getattr(d, ref), "revision": d.revision,
                "service_ids": list(d.service_ids),
                "issued_at": d.issued_at.seconds, "due_at": getattr(d, due).seconds,
                "withdrawn": int(d.withdrawn), "recorded_at": ingested_s, "payload": value,
            }
        )  # fmt: skip
        return 1


class DispositionBatch(ColumnarBatch):
    table = "offshore_dispositions"
    column_names: tuple[str, ...] = ("target", "stage", "at", "authority_id", "note")

    def add_record(self, value: bytes, meta: RecordMeta, ingested_s: int) -> int:
        d = self._decode(pb.authority_pb2.OffshoreDisposition, value, meta)
        if d is None:
            return 0
        self._row(
            {
                "target": d.target, "stage": d.stage, "at": d.at.seconds,
                "authority_id": meta.provider_id, "note": d.note,
            }
        )  # fmt: skip
        return 1
