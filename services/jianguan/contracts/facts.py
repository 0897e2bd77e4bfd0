"""Domain facts → jianguan.v1.CaseFact / Alert, and case state ↔ bytes for changelog tables."""

from __future__ import annotations

import json
import math
import struct
from dataclasses import asdict
from typing import Any

from jianguan.contracts import pb
from jianguan.domain.obligations import (
    Case,
    CaseClosed,
    CaseOpened,
    DeadlineMissed,
    Fact,
    Obligation,
    ObligationMet,
    SubjectState,
)
from jianguan.domain.rules.catalog import BY_ID
from jianguan.domain.rules.sla import UserTally

K = pb.cases_pb2
CaseFact = pb.cases_pb2.CaseFact
Alert = pb.cases_pb2.Alert


def _ts(target: Any, seconds: float) -> None:
    target.FromNanoseconds(round(seconds * 1e9))


def case_fact(
    fact: Fact, service_id: str, subject: str, detected_at: float
) -> pb.cases_pb2.CaseFact:
    """One CaseFact; ``fact_id`` is deterministic so redeliveries and replays collapse."""
    out = K.CaseFact()
    if isinstance(fact, CaseOpened):
        case = fact.case
        out.kind = K.CASE_FACT_KIND_OPENED
        out.case_id, rule_id, provider = case.case_id, case.rule_id, case.provider_id
        out.event_id = case.trigger_event_id
        _ts(out.at, case.opened_at)
        for o in case.obligations:
            _ts(out.dues.add(obligation=o.name).due, o.due)
    elif isinstance(fact, ObligationMet):
        out.kind = K.CASE_FACT_KIND_OBLIGATION_MET
        out.case_id, rule_id, provider = fact.case_id, fact.rule_id, fact.provider_id
        out.obligation, out.event_id, out.late = fact.obligation, fact.by_event_id, fact.late
        _ts(out.at, fact.at)
    elif isinstance(fact, DeadlineMissed):
        out.kind = K.CASE_FACT_KIND_DEADLINE_MISSED
        out.case_id, rule_id, provider = fact.case_id, fact.rule_id, fact.provider_id
        out.obligation = fact.obligation
        _ts(out.at, fact.due)
        _ts(out.due, fact.due)
        _ts(out.detected_at, fact.detected_at)
    else:
        assert isinstance(fact, CaseClosed)
        out.kind = K.CASE_FACT_KIND_CLOSED
        out.case_id, rule_id, provider = fact.case_id, fact.rule_id, fact.provider_id
        _ts(out.at, fact.at)
    if not out.HasField("detected_at"):
        _ts(out.detected_at, detected_at)
    rule = BY_ID[rule_id]
    out.rule_id, out.article, out.severity = rule_id, rule.article.ref, rule.severity
    out.provider_id, out.service_id, out.subject = provider, service_id, subject
    kind = K.CaseFactKind.Name(out.kind).removeprefix("CASE_FACT_KIND_")
    out.fact_id = f"{out.case_id}/{kind}/{out.obligation}"
    return out


def alert(fact: CaseFact) -> Alert | None:
    """The alert a fact raises, if any (a missed deadline)."""
    if fact.kind != K.CASE_FACT_KIND_DEADLINE_MISSED:
        return None
    rule = BY_ID[fact.rule_id]
    out = K.Alert(
        alert_id=fact.fact_id,
        rule_id=fact.rule_id,
        article=fact.article,
        severity=fact.severity,
        provider_id=fact.provider_id,
        service_id=fact.service_id,
        case_id=fact.case_id,
        summary=f"{rule.title}: '{fact.obligation}' for {fact.subject} was not done by its deadline"
        f" ({rule.article.ref})",
    )
    out.due.CopyFrom(fact.due)
    out.detected_at.CopyFrom(fact.detected_at)
    return out


# -- per-subject state in changelog-backed tables ----------------------------------------------


# A state's encoding starts with this byte and the earliest instant at which the clock could miss
# one of its obligations (a big-endian double; +inf when none is pending), so the clock's pass
# over every state decodes only those with something due. States written before carry no header.
_HEADER = b"\x01"
_DUE = struct.Struct(">d")


def pending_due(raw: bytes) -> float:
    """The earliest due instant of an unmet, unmissed obligation in an encoded state (+inf when
    there is none): the clock changes nothing before it. Cheap: reads the header only."""
    if raw[:1] == _HEADER:
        due: float = _DUE.unpack_from(raw, 1)[0]
        return due
    case = decode_state(raw).case
    return _earliest(case)


def _earliest(case: Case | None) -> float:
    if case is None:
        return math.inf
    dues = [o.due for o in case.obligations if o.met_at is None and not o.missed]
    return min(dues, default=math.inf)


def encode_state(state: SubjectState) -> bytes:
    case = state.case
    doc: dict[str, Any] = {"early": [list(e) for e in state.early]}
    if case is not None:
        doc["case"] = {
            "case_id": case.case_id,
            "rule_id": case.rule_id,
            "provider_id": case.provider_id,
            "service_id": case.service_id,
            "subject": case.subject,
            "opened_at": case.opened_at,
            "trigger_event_id": case.trigger_event_id,
            "obligations": [
                [o.name, o.due, o.met_at, o.met_by, o.missed] for o in case.obligations
            ],
        }
    body = json.dumps(doc, separators=(",", ":")).encode()
    return _HEADER + _DUE.pack(_earliest(case)) + body


def decode_state(raw: bytes) -> SubjectState:
    doc = json.loads(raw[1 + _DUE.size :] if raw[:1] == _HEADER else raw)
    c = doc.get("case")
    case = None
    if c is not None:
        case = Case(
            c["case_id"],
            c["rule_id"],
            c["provider_id"],
            c["service_id"],
            c["subject"],
            c["opened_at"],
            c["trigger_event_id"],
            tuple(Obligation(n, d, m, b, x) for n, d, m, b, x in c["obligations"]),
        )
    return SubjectState(case=case, early=tuple((n, a, b) for n, a, b in doc["early"]))


def encode_tally(tally: UserTally) -> bytes:
    return json.dumps(asdict(tally), separators=(",", ":")).encode()


def decode_tally(raw: bytes | None) -> UserTally:
    return UserTally(**json.loads(raw)) if raw else UserTally()
