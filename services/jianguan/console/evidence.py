"""A case's evidence (pure): the timeline of its facts with the events they cite, decoded from
the stored protobuf, and the exportable bundle — case.json, events.csv (UTF-8 with a BOM, times
in Beijing time and as Unix seconds) and a SHA-256 manifest in one zip."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from jianguan.console.formats import beijing
from jianguan.contracts import pb
from jianguan.domain.rules.catalog import BY_ID
from jianguan.domain.rules.explain import explain
from jianguan.store.oversight import CaseFactRow, StoredEvent

# A case fact's kind by its code (the contract's CaseFactKind, without its prefix).
KINDS = {
    v.number: v.name.removeprefix("CASE_FACT_KIND_")
    for v in pb.cases_pb2.CaseFactKind.DESCRIPTOR.values
    if v.number
}
# An event's body kind by its code (the contract's body field number).
EVENT_KINDS = {code: name for name, code in pb.BODY_KINDS.items()}


@dataclass
class CaseEvidence:
    case_id: str
    provider_id: str
    service_id: str
    rule_id: str
    article: str
    severity: str
    subject: str
    facts: list[dict[str, Any]] = field(default_factory=list)
    deadlines: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    # The parameter values the deadlines were computed with (as recorded when the case opened),
    # each with its unit, meaning and source in English and Chinese (domain.rules.explain).
    parameters: list[dict[str, Any]] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return any(f["kind"] == "CLOSED" for f in self.facts)

    def rule_doc(self) -> dict[str, str]:
        rule = BY_ID.get(self.rule_id)
        if rule is None:
            return {"id": self.rule_id}
        return {
            "id": rule.id,
            "title": rule.title,
            "article": rule.article.ref,
            "article_zh": rule.article.ref_zh,
            "quote_zh": rule.article.quote_zh,
            "gloss_en": rule.article.gloss_en,
        }


def decode_event(payload: bytes) -> dict[str, Any]:
    """The stored event as JSON. Any value a provider managed to store renders: a timestamp
    outside what JSON's date format allows shows as its seconds and nanos, marked invalid."""
    return _as_dict(pb.Event.FromString(payload))


def _as_dict(msg: Message) -> dict[str, Any]:
    try:
        return json_format.MessageToDict(msg, preserving_proto_field_name=True)
    except (ValueError, json_format.Error):  # a Timestamp or Duration out of range, inside
        pass
    if msg.DESCRIPTOR.full_name in ("google.protobuf.Timestamp", "google.protobuf.Duration"):
        seconds, nanos = getattr(msg, "seconds", 0), getattr(msg, "nanos", 0)
        return {"seconds": seconds, "nanos": nanos, "invalid": True}
    out: dict[str, Any] = {}
    for fd, value in msg.ListFields():
        if fd.message_type is not None:
            out[fd.name] = [_as_dict(v) for v in value] if _repeated(fd) else _as_dict(value)
        else:
            out[fd.name] = [_scalar(fd, v) for v in value] if _repeated(fd) else _scalar(fd, value)
    return out


def _repeated(fd: FieldDescriptor) -> bool:
    return bool(fd.is_repeated)


def _scalar(fd: FieldDescriptor, value: Any) -> Any:
    if fd.enum_type is not None:
        known = fd.enum_type.values_by_number.get(value)
        return known.name if known is not None else value
    if isinstance(value, bytes):
        return value.hex()
    return value


def build(case_id: str, facts: list[CaseFactRow], events: list[StoredEvent]) -> CaseEvidence:
    """From a case's standing facts (in time order) and the events they cite."""
    first = facts[0]
    ev = CaseEvidence(
        case_id, first.provider_id, first.service_id, first.rule_id, first.article,
        first.severity, first.subject,
    )  # fmt: skip
    met: dict[str, tuple[int, bool]] = {}
    missed: set[str] = set()
    for fact in facts:
        name = KINDS.get(fact.kind, str(fact.kind))
        ev.facts.append(
            {"kind": name, "obligation": fact.obligation, "at": fact.at, "event_id": fact.event_id,
             "late": fact.late, "due": fact.due if name == "DEADLINE_MISSED" else None}
        )  # fmt: skip
        if name == "OPENED":
            ev.deadlines = [{"obligation": o, "due": d} for o, d in fact.dues]
            ev.parameters = [x.as_dict() for x in explain(ev.rule_id, list(fact.parameters))]
        elif name == "OBLIGATION_MET":
            met[fact.obligation] = (fact.at, fact.late)
        elif name == "DEADLINE_MISSED":
            missed.add(fact.obligation)
    for d in ev.deadlines:
        o = d["obligation"]
        if o in met:
            d["status"], d["met_at"] = (
                ("met_late" if met[o][1] or o in missed else "met"),
                met[o][0],
            )
        else:
            d["status"] = "overdue" if o in missed else "pending"
    corrected_by = {e.corrects_event_id: e.event_id for e in events if e.corrects_event_id}
    for stored in events:
        ev.events.append(
            {
                "event_id": stored.event_id,
                "corrects": stored.corrects_event_id,
                "corrected_by": corrected_by.get(stored.event_id, ""),
                "service_id": stored.service_id,
                "kind": EVENT_KINDS.get(stored.kind, str(stored.kind)),
                "occurred_at": stored.occurred_at,
                "sequence": stored.sequence,
                "received_at": stored.received_at,
                "payload": decode_event(stored.payload),
            }
        )
    return ev


def bundle(ev: CaseEvidence, exported_by: str, exported_at: int) -> bytes:
    """The evidence bundle: case.json, events.csv, MANIFEST.sha256 (sha256sum format)."""
    doc = {
        "case_id": ev.case_id, "provider_id": ev.provider_id, "service_id": ev.service_id,
        "subject": ev.subject, "severity": ev.severity, "rule": ev.rule_doc(),
        "deadlines": ev.deadlines, "parameters": ev.parameters, "facts": ev.facts,
        "events": ev.events,
        "exported_by": exported_by, "exported_at": exported_at, "times": "Unix seconds, UTC",
    }  # fmt: skip
    case_json = json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True).encode()
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(
        ["event_id", "service_id", "kind", "sequence", "occurred_at (Beijing time)",
         "received_at (Beijing time)", "occurred_at_unix", "received_at_unix", "payload_json"]
    )  # fmt: skip
    for e in ev.events:
        payload = json.dumps(e["payload"], ensure_ascii=False, sort_keys=True)
        w.writerow(
            [e["event_id"], e["service_id"], e["kind"], e["sequence"], beijing(e["occurred_at"]),
             beijing(e["received_at"]), e["occurred_at"], e["received_at"], payload]
        )  # fmt: skip
    # a BOM: spreadsheet programs then read the Chinese in it as UTF-8
    events_csv = "\ufeff".encode() + out.getvalue().encode()
    files = {"case.json": case_json, "events.csv": events_csv}
    manifest = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in files.items()
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
        z.writestr("MANIFEST.sha256", manifest)
    return buf.getvalue()
