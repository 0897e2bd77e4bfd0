"""The authorities' demands, with the deadline they set: orders to correct within a time limit
(Art. 21 ¶1) and requests of a supervisory inspection (Art. 19 ¶1). Pure.

An authority records a demand (``AuthorityIntakeService``) and may amend it: every revision says
what it asks and by when, or that the demand is withdrawn, and the highest revision stands
whatever order the revisions arrive in. The provider answers with events that quote the
authority and the reference. A unit is one demand, ``<authority>:<ref>`` (two authorities may use
the same reference): its case opens at the earliest ``issued_at`` and has the obligations of the
standing revision, due when it says; a withdrawn demand has no case (what was emitted before is
retracted: the authority took the demand back).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from jianguan.domain.cases import OPEN, Case, Decision, Input, case_id, decide, earliest_meets
from jianguan.domain.events import Observed
from jianguan.domain.rules.sla import RuleBase

_DUE, _WITHDRAWN = "due", "withdrawn"
DEADLINE_SOURCE = "set by the authority in the standing revision of its record"


def demand_subject(authority_id: str, ref: str) -> str:
    """The unit (and case subject) of an authority's demand."""
    return f"{authority_id}:{ref}"


def confidential_to(case_id: str) -> str | None:
    """The authority a case (and its alerts) is confidential to, or None when it is not:
    inspections are seen only by the authority that asked (Art. 19 ¶2). A case id is
    ``<rule>:<provider>:<authority>:<ref>`` (provider and authority ids hold no colon); one
    that is not is confidential to nobody who could ask ("")."""
    parts = case_id.split(":", 3)
    if parts[0] not in CONFIDENTIAL_RULES:
        return None
    return parts[2] if len(parts) == 4 else ""


def visible_to(authority: str, case_id: str) -> bool:
    """Whether a viewer working for ``authority`` ("": none) may see a case or its alerts."""
    owner = confidential_to(case_id)
    return owner is None or (bool(authority) and owner == authority)


def _revision_id(ref: str, revision: int) -> str:
    return f"{ref}@{revision:04d}"


class _Demand(RuleBase):
    """A demand of ``demand_kind`` (its reference in ``ref_field`` of the answers) with one
    obligation per thing it asks (``asked``), met by answers of ``answer_kind``."""

    demand_kind = ""
    answer_kind = ""
    ref_field = ""

    def __init__(self, overrides: Mapping[str, float] | None = None) -> None:
        super().__init__(overrides, ())

    def asked(self, ev: Observed) -> tuple[str, ...]:
        """The obligations a revision of the demand sets."""
        raise NotImplementedError

    def answered(self, ev: Observed) -> tuple[str, ...]:
        """The obligations an answer meets."""
        raise NotImplementedError

    def _route(self, ev: Observed) -> list[tuple[str, Input]]:
        if ev.kind == self.demand_kind:
            unit = demand_subject(str(ev.get("authority_id", "")), ev.event_id)
            revision = int(ev.get("revision", 0))
            rid = _revision_id(ev.event_id, revision)
            out = [(unit, Input(ev.at, rid, OPEN, ev.service_id))]
            if ev.get("withdrawn"):
                return [*out, (unit, Input(ev.at, rid, f"{_WITHDRAWN}:{revision:04d}"))]
            due = float(ev.get("due", ev.at))
            for name in self.asked(ev):
                out.append((unit, Input(due, rid, f"{_DUE}:{revision:04d}:{name}")))
            return out
        if ev.kind == self.answer_kind:
            authority, ref = ev.get("authority_id"), ev.get(self.ref_field)
            if not authority or not ref:
                return []
            unit = demand_subject(str(authority), str(ref))
            return [(unit, Input(ev.at, ev.event_id, name)) for name in self.answered(ev)]
        return []

    def decide(
        self, provider_id: str, unit: str, inputs: Sequence[Input], watermark: float
    ) -> Decision:
        opens = [i for i in inputs if i.role == OPEN]
        standing = _standing(inputs)
        if not opens or standing is None:
            return Decision()
        revision, dues = standing
        if not dues:  # withdrawn
            return Decision()
        trigger = min(opens)
        ref = trigger.event_id.rpartition("@")[0]
        case = Case(
            case_id(self.rule_id, provider_id, unit),
            self.rule_id,
            provider_id,
            trigger.service_id,
            unit,
            trigger.at,
            ref,
            tuple(sorted(dues.items())),
        )
        met = earliest_meets(i for i in inputs if i.role in dues)
        parameters = (("deadline", DEADLINE_SOURCE), ("revision", str(revision)))
        return decide(case, met, watermark, parameters)


def _standing(inputs: Sequence[Input]) -> tuple[int, dict[str, float]] | None:
    """The highest revision of the demand and its obligations' due instants (none: withdrawn);
    None when no revision is known yet (only answers arrived)."""
    revisions: dict[int, dict[str, float]] = {}
    withdrawn: set[int] = set()
    for i in inputs:
        kind, _, rest = i.role.partition(":")
        if kind == _DUE:
            number, _, name = rest.partition(":")
            revisions.setdefault(int(number), {})[name] = i.at
        elif kind == _WITHDRAWN:
            withdrawn.add(int(rest))
    if not revisions and not withdrawn:
        return None
    latest = max(revisions.keys() | withdrawn)
    return latest, {} if latest in withdrawn else revisions.get(latest, {})


class CorrectionOrders(_Demand):
    """ART21-CORRECTION-ORDER: an order to correct within a time limit is reported corrected (a
    correction report quoting it) by the deadline the authority set; a missed one is a possible
    refusal to correct, which only the authority can decide."""

    rule_id = "ART21-CORRECTION-ORDER"
    demand_kind, answer_kind, ref_field = "correction_order", "correction_report", "order_ref"
    kinds = frozenset({demand_kind, answer_kind})

    def asked(self, ev: Observed) -> tuple[str, ...]:
        return ("correction",)

    def answered(self, ev: Observed) -> tuple[str, ...]:
        return ("correction",)


class Inspections(_Demand):
    """ART19-INSPECTION: each topic a supervisory inspection asks the provider to explain or
    support is answered by the date the authority set; an answer meets the topics it names."""

    rule_id = "ART19-INSPECTION"
    demand_kind, answer_kind, ref_field = "inspection_request", "inspection_response", "request_ref"
    kinds = frozenset({demand_kind, answer_kind})

    def asked(self, ev: Observed) -> tuple[str, ...]:
        return _topics(ev)

    def answered(self, ev: Observed) -> tuple[str, ...]:
        return _topics(ev)


def _topics(ev: Observed) -> tuple[str, ...]:
    """Topic names as obligations (``TRAINING_DATA_SOURCE`` → ``training_data_source``); an
    unknown number is no topic."""
    return tuple(sorted({str(t).lower() for t in ev.get("topics", ()) if isinstance(t, str)}))


# The rules whose cases and alerts only the authority that made the demand may see.
CONFIDENTIAL_RULES = (Inspections.rule_id,)
# Each kind of demand's rule.
DEMAND_RULES: dict[str, type[_Demand]] = {r.demand_kind: r for r in (CorrectionOrders, Inspections)}
