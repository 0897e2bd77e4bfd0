"""A case's evidence (pure): the timeline of its facts with the events they cite, decoded from
the stored protobuf, and the exportable bundle — case.json, events.csv and a SHA-256 manifest in
one zip."""

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

from jianguan.contracts import pb
from jianguan.domain.rules.catalog import BY_ID
from jianguan.domain.rules.explain import explain

KINDS = {1: "OPENED", 2: "OBLIGATION_MET", 3: "DEADLINE_MISSED", 4: "CLOSED"}
EVENT_KINDS = {
    10: "generation", 11: "moderation", 12: "user_enforcement", 13: "complaint",
    14: "personal_info_request", 15: "service_filing", 16: "incident_report",
    17: "model_rectification", 18: "offshore_observation",
}  # fmt: skip


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


def decode_event(payload_hex: str) -> dict[str, Any]:
    """The stored event as JSON. Any value a provider managed to store renders: a timestamp
    outside what JSON's date format allows shows as its seconds and nanos, marked invalid."""
    return _as_dict(pb.Event.FromString(bytes.fromhex(payload_hex)))


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


def build(
    case_id: str, facts: list[tuple[Any, ...]], events: list[tuple[Any, ...]]
) -> CaseEvidence:
    """From ``Queries.case`` rows and ``Queries.events`` rows."""
    first = facts[0]
    ev = CaseEvidence(case_id, first[4], first[5], first[1], first[2], first[3], first[6])
    met: dict[str, tuple[int, bool]] = {}
    missed: set[str] = set()
    for kind, *_, obligation, at, due, event_id, late, due_names, due_times, names, values in facts:
        name = KINDS.get(int(kind), str(kind))
        ev.facts.append(
            {"kind": name, "obligation": obligation, "at": int(at), "event_id": event_id,
             "late": bool(late), "due": int(due) if name == "DEADLINE_MISSED" else None}
        )  # fmt: skip
        if name == "OPENED":
            ev.deadlines = [
                {"obligation": o, "due": int(d)} for o, d in zip(due_names, due_times, strict=True)
            ]
            recorded = list(zip(names, values, strict=True))
            ev.parameters = [x.as_dict() for x in explain(ev.rule_id, recorded)]
        elif name == "OBLIGATION_MET":
            met[obligation] = (int(at), bool(late))
        elif name == "DEADLINE_MISSED":
            missed.add(obligation)
    for d in ev.deadlines:
        o = d["obligation"]
        if o in met:
            d["status"], d["met_at"] = (
                ("met_late" if met[o][1] or o in missed else "met"),
                met[o][0],
            )
        else:
            d["status"] = "overdue" if o in missed else "pending"
    for event_id, service, kind, occurred, sequence, received, payload in events:
        ev.events.append(
            {
                "event_id": event_id,
                "service_id": service,
                "kind": EVENT_KINDS.get(int(kind), str(kind)),
                "occurred_at": int(occurred),
                "sequence": int(sequence),
                "received_at": int(received),
                "payload": decode_event(payload),
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
        ["event_id", "service_id", "kind", "sequence", "occurred_at", "received_at", "payload_json"]
    )
    for e in ev.events:
        payload = json.dumps(e["payload"], ensure_ascii=False, sort_keys=True)
        w.writerow(
            [e["event_id"], e["service_id"], e["kind"], e["sequence"], e["occurred_at"],
             e["received_at"], payload]
        )  # fmt: skip
    events_csv = out.getvalue().encode()
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
