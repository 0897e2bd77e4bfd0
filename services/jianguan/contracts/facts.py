"""Domain facts → jianguan.v1.CaseFact / Alert, and units of rule state ↔ bytes for changelog
tables."""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable
from typing import Any

import orjson

from jianguan.contracts import pb
from jianguan.domain.cases import (
    CaseClosed,
    CaseOpened,
    CaseStatus,
    DeadlineMissed,
    Emitted,
    Input,
    ObligationMet,
    Retracted,
    Stamped,
    Unit,
    of_fact_id,
)
from jianguan.domain.registrations import Registration
from jianguan.domain.rules.catalog import BY_ID
from jianguan.domain.said import Phrase

K = pb.cases_pb2
CaseFact = pb.cases_pb2.CaseFact
Alert = pb.cases_pb2.Alert


def _ts(target: Any, seconds: float) -> None:
    target.FromNanoseconds(round(seconds * 1e9))


_KINDS = {
    CaseOpened: K.CASE_FACT_KIND_OPENED,
    ObligationMet: K.CASE_FACT_KIND_OBLIGATION_MET,
    DeadlineMissed: K.CASE_FACT_KIND_DEADLINE_MISSED,
    CaseClosed: K.CASE_FACT_KIND_CLOSED,
    CaseStatus: K.CASE_FACT_KIND_STATUS,
}


def _cite(out: Any, rule_id: str) -> None:
    rule = BY_ID[rule_id]
    out.rule_id, out.article, out.severity = rule_id, rule.article.ref, rule.severity


def case_fact(stamped: Stamped) -> pb.cases_pb2.CaseFact:
    """One CaseFact; ``fact_id`` is deterministic (case, kind, obligation), so redeliveries and
    replays collapse, and a revision replaces the fact it revises."""
    fact, case = stamped.fact, stamped.fact.case
    out = K.CaseFact(
        fact_id=fact.fact_id,
        kind=_KINDS[type(fact)],
        case_id=case.case_id,
        provider_id=case.provider_id,
        service_id=case.service_id,
        subject=case.subject,
        revision=stamped.revision,
    )
    _cite(out, case.rule_id)
    if isinstance(fact, CaseOpened):
        out.event_id = case.trigger_event_id
        _ts(out.at, case.opened_at)
        for name, due in case.dues:
            _ts(out.dues.add(obligation=name).due, due)
        for name, value in fact.parameters:
            out.parameters.add(name=name, value=value)
    elif isinstance(fact, ObligationMet):
        out.obligation, out.event_id, out.late = fact.obligation, fact.by_event_id, fact.late
        _ts(out.at, fact.at)
    elif isinstance(fact, DeadlineMissed):
        out.obligation = fact.obligation
        _ts(out.at, fact.due)
        _ts(out.due, fact.due)
    elif isinstance(fact, CaseStatus):
        out.event_id = case.trigger_event_id
        _ts(out.at, case.opened_at)
        if math.isfinite(fact.next_due):
            _ts(out.due, fact.next_due)
        out.obligations_met.extend(fact.met)
        out.obligations_missed.extend(fact.missed)
        if fact.closed_at is not None:
            _ts(out.closed_at, fact.closed_at)
    else:
        _ts(out.at, fact.at)
    _ts(out.detected_at, stamped.detected_at)
    return out


def retraction(
    r: Retracted, rule_id: str, provider_id: str, detected_at: float
) -> pb.cases_pb2.CaseFact:
    """The record withdrawing fact ``r.fact_id``: same key (provider, case, fact id), a higher
    revision, ``retracted`` set."""
    case = of_fact_id(r.fact_id)
    kind = r.fact_id[len(case) + 1 :].split("/", 1)[0]
    out = K.CaseFact(
        fact_id=r.fact_id,
        kind=K.CaseFactKind.Value(f"CASE_FACT_KIND_{kind}"),
        case_id=case,
        provider_id=provider_id,
        revision=r.revision,
        retracted=True,
    )
    _cite(out, rule_id)
    _ts(out.detected_at, detected_at)
    return out


def alert(fact: CaseFact) -> Alert | None:
    """The alert a fact raises or withdraws, if any (a missed deadline)."""
    if fact.kind != K.CASE_FACT_KIND_DEADLINE_MISSED:
        return None
    rule = BY_ID[fact.rule_id]
    if fact.retracted:
        out = K.Alert(
            alert_id=fact.fact_id,
            rule_id=fact.rule_id,
            article=fact.article,
            severity=fact.severity,
            provider_id=fact.provider_id,
            case_id=fact.case_id,
            revision=fact.revision,
            retracted=True,
        )
        out.detected_at.CopyFrom(fact.detected_at)
        return out
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
        revision=fact.revision,
    )
    out.due.CopyFrom(fact.due)
    out.detected_at.CopyFrom(fact.detected_at)
    return out


# -- units of rule state in changelog-backed tables ---------------------------------------------


# A unit's encoding starts with this byte and the next instant at which the clock alone changes
# its facts (a big-endian double; +inf when none), so the clock's pass over the units decodes
# only those with something due.
_HEADER = b"\x02"
_DUE = struct.Struct(">d")


def next_due(raw: bytes) -> float:
    """The instant before which the clock changes nothing in an encoded unit. Reads the header
    only."""
    due: float = _DUE.unpack_from(raw, 1)[0]
    return due


def encode_unit(unit: Unit) -> bytes:
    doc = {
        "i": [[i.at, i.event_id, i.role, i.service_id] for i in unit.inputs],
        "e": {k: [e.digest, e.detected_at] for k, e in (unit.emitted or {}).items()},
        "r": unit.revision,
    }
    body = orjson.dumps(doc)  # JSON, ~15x faster to write than the json module
    return _HEADER + _DUE.pack(unit.next_due) + body


def decode_unit(raw: bytes | None) -> Unit:
    if not raw:
        return Unit()
    if raw[:1] != _HEADER:
        raise ValueError("not a unit of rule state of this version")
    doc = orjson.loads(raw[1 + _DUE.size :])
    return Unit(
        tuple(Input(a, e, r, s) for a, e, r, s in doc["i"]),
        {k: Emitted(d, t) for k, (d, t) in doc["e"].items()},
        doc["r"],
        next_due(raw),
    )


def encode_registration(entry: Registration) -> bytes:
    return orjson.dumps(list(entry))


def decode_registration(raw: bytes) -> Registration:
    at, event_id, days, *working = orjson.loads(raw)  # none: stored before units were kept
    return float(at), str(event_id), float(days), bool(working and working[0])


def add_said(alert: Alert, phrases: Iterable[Phrase]) -> None:
    """A finding's phrases onto its alert (``Alert.said``)."""
    for p in phrases:
        alert.said.add(template=p.template).args.extend(
            K.Parameter(name=k, value=v) for k, v in p.args
        )


def phrases_of(alert: Alert) -> tuple[Phrase, ...]:
    """``add_said``'s inverse."""
    return tuple(Phrase(p.template, tuple((a.name, a.value) for a in p.args)) for p in alert.said)
