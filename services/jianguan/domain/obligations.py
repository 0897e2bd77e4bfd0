"""Cases with deadlines: the machinery every SLA rule shares. Pure.

A trigger opens a case for a subject (a moderation hit, a complaint, a request) with obligations,
each due at an event-time instant. Later events meet obligations; the clock passing a due instant
misses one (an alert), once. A case closes when every obligation is met. Events that meet an
obligation may arrive before the trigger (logs are not ordered across services): they are kept
and applied when the case opens. State is per subject, immutable; every step returns the new
state and the facts it emits, so a replay of the same events yields the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Obligation:
    name: str
    due: float
    met_at: float | None = None
    met_by: str = ""
    missed: bool = False


@dataclass(frozen=True, slots=True)
class Case:
    case_id: str
    rule_id: str
    provider_id: str
    service_id: str
    subject: str
    opened_at: float
    trigger_event_id: str
    obligations: tuple[Obligation, ...]

    @property
    def closed(self) -> bool:
        return all(o.met_at is not None for o in self.obligations)


@dataclass(frozen=True, slots=True)
class SubjectState:
    case: Case | None = None
    # Obligations met before the trigger arrived: (name, at, event id).
    early: tuple[tuple[str, float, str], ...] = ()


# -- facts -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseOpened:
    case: Case


@dataclass(frozen=True, slots=True)
class ObligationMet:
    case_id: str
    rule_id: str
    provider_id: str
    obligation: str
    at: float
    by_event_id: str
    late: bool


@dataclass(frozen=True, slots=True)
class DeadlineMissed:
    """An alert: an obligation was not met by its due instant."""

    case_id: str
    rule_id: str
    provider_id: str
    service_id: str
    obligation: str
    due: float
    detected_at: float


@dataclass(frozen=True, slots=True)
class CaseClosed:
    case_id: str
    rule_id: str
    provider_id: str
    at: float


Fact = CaseOpened | ObligationMet | DeadlineMissed | CaseClosed


# -- steps -----------------------------------------------------------------------------------


def open_case(
    state: SubjectState | None,
    *,
    rule_id: str,
    provider_id: str,
    service_id: str,
    subject: str,
    trigger_event_id: str,
    at: float,
    dues: dict[str, float],
) -> tuple[SubjectState, list[Fact]]:
    """Open the subject's case (once: a repeated trigger changes nothing), then apply what was
    met before the trigger arrived."""
    state = state or SubjectState()
    if state.case is not None:
        return state, []
    case = Case(
        case_id=f"{rule_id}:{provider_id}:{subject}",
        rule_id=rule_id,
        provider_id=provider_id,
        service_id=service_id,
        subject=subject,
        opened_at=at,
        trigger_event_id=trigger_event_id,
        obligations=tuple(Obligation(name, due) for name, due in sorted(dues.items())),
    )
    facts: list[Fact] = [CaseOpened(case)]
    opened = SubjectState(case=case)
    for name, met_at, by in sorted(state.early, key=lambda e: (e[1], e[2], e[0])):
        opened, more = meet(opened, name, met_at, by)
        facts += more
    return opened, facts


def meet(
    state: SubjectState | None, name: str, at: float, by_event_id: str
) -> tuple[SubjectState, list[Fact]]:
    """Obligation ``name`` is met at ``at`` by an event. Before the case exists, remembered;
    already met, ignored (duplicates and redeliveries change nothing)."""
    state = state or SubjectState()
    case = state.case
    if case is None:
        # Kept until the trigger comes: the earliest meeting event per obligation (event time,
        # then id), whatever order they arrive in.
        kept = [e for e in state.early if e[0] == name]
        if kept and (kept[0][1], kept[0][2]) <= (at, by_event_id):
            return state, []
        others = tuple(e for e in state.early if e[0] != name)
        return replace(state, early=(*others, (name, at, by_event_id))), []
    facts: list[Fact] = []
    obligations = []
    for o in case.obligations:
        if o.name == name and o.met_at is None:
            late = at > o.due
            if late and not o.missed:
                # Met after its due instant: it was missed, whether or not a clock tick said so
                # first. The facts of a case then depend only on its events, not on timing.
                facts.append(_missed(case, o, at))
            o = replace(o, met_at=at, met_by=by_event_id, missed=o.missed or late)
            facts.append(
                ObligationMet(
                    case.case_id, case.rule_id, case.provider_id, name, at, by_event_id, late
                )
            )
        obligations.append(o)
    if not facts:
        return state, []
    updated = replace(case, obligations=tuple(obligations))
    if updated.closed:
        # closed when its last obligation was met (event time), not when that news arrived
        closed_at = max(o.met_at for o in updated.obligations if o.met_at is not None)
        facts.append(CaseClosed(case.case_id, case.rule_id, case.provider_id, closed_at))
    return SubjectState(case=updated, early=state.early), facts


def _missed(case: Case, o: Obligation, detected_at: float) -> DeadlineMissed:
    return DeadlineMissed(
        case.case_id, case.rule_id, case.provider_id, case.service_id, o.name, o.due, detected_at
    )


def tick(state: SubjectState | None, now: float) -> tuple[SubjectState | None, list[Fact]]:
    """The clock reached ``now`` (event-time watermark, or wall clock when a provider is
    silent): every unmet obligation whose due instant has passed is missed, once."""
    if state is None or state.case is None:
        return state, []
    case = state.case
    facts: list[Fact] = []
    obligations = []
    for o in case.obligations:
        if o.met_at is None and not o.missed and now > o.due:
            facts.append(_missed(case, o, now))
            o = replace(o, missed=True)
        obligations.append(o)
    if not facts:
        return state, []
    return replace(state, case=replace(case, obligations=tuple(obligations))), facts
