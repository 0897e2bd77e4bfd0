"""Cases with deadlines, decided from their events in event-time order. Pure.

A rule keeps, per unit of state (a moderation hit, a complaint, a user), the inputs its events
gave: an event's time, id and role (``open``, or the obligation it meets). The unit's cases and
their facts are a function of those inputs, taken in event-time order, and of the clock
(``watermark``): never of the order the events arrived in or of how they were batched. A trigger
opens a case with obligations, each due at an event-time instant; the earliest event meeting an
obligation meets it (late when after its due instant, which is also a miss); the clock passing a
due instant misses an unmet one; a case closes when its last obligation was met.

When new inputs or the clock change a unit's facts, ``revise`` gives the difference from what was
emitted before: new facts, changed facts (a new revision under the same id) and facts that no
longer hold (retracted: a miss that a late-arriving event shows was met in time). Inputs are a
set keyed by (event id, role), so a redelivered event changes nothing; a rule may keep only the
inputs its decisions read (``earliest_per_role``), which bounds a unit whatever the traffic.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

OPEN = "open"


@dataclass(frozen=True, slots=True, order=True)
class Input:
    """What one event contributes to a unit: its time, id and role (sorting orders by them)."""

    at: float
    event_id: str
    role: str
    service_id: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.event_id, self.role


@dataclass(frozen=True, slots=True)
class Case:
    """A case as opened: who, why, when, and each obligation's due instant (sorted by name)."""

    case_id: str
    rule_id: str
    provider_id: str
    service_id: str
    subject: str
    opened_at: float
    trigger_event_id: str
    dues: tuple[tuple[str, float], ...]


# -- facts -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseOpened:
    case: Case
    # The parameters the dues were computed with (name → value, e.g. the working calendar's
    # digest), so a reader sees why and a replay under other configuration can tell.
    parameters: tuple[tuple[str, str], ...] = ()

    @property
    def case_id(self) -> str:
        return self.case.case_id

    @property
    def fact_id(self) -> str:
        return f"{self.case.case_id}/OPENED/"


@dataclass(frozen=True, slots=True)
class ObligationMet:
    case: Case
    obligation: str
    at: float
    by_event_id: str
    late: bool

    @property
    def case_id(self) -> str:
        return self.case.case_id

    @property
    def fact_id(self) -> str:
        return f"{self.case.case_id}/OBLIGATION_MET/{self.obligation}"


@dataclass(frozen=True, slots=True)
class DeadlineMissed:
    """An alert: an obligation was not met by its due instant."""

    case: Case
    obligation: str
    due: float

    @property
    def case_id(self) -> str:
        return self.case.case_id

    @property
    def fact_id(self) -> str:
        return f"{self.case.case_id}/DEADLINE_MISSED/{self.obligation}"


@dataclass(frozen=True, slots=True)
class CaseClosed:
    case: Case
    at: float

    @property
    def case_id(self) -> str:
        return self.case.case_id

    @property
    def fact_id(self) -> str:
        return f"{self.case.case_id}/CLOSED/"


@dataclass(frozen=True, slots=True)
class CaseStatus:
    """The case as it stands after its other facts: obligations met and missed (sorted), when
    it closed (None while open), and when its next unmet obligation falls due (+inf: none).
    Decided with them, so it changes exactly when one of them does."""

    case: Case
    met: tuple[str, ...]
    missed: tuple[str, ...]
    closed_at: float | None
    next_due: float

    @property
    def case_id(self) -> str:
        return self.case.case_id

    @property
    def fact_id(self) -> str:
        return f"{self.case.case_id}/STATUS/"


Fact = CaseOpened | ObligationMet | DeadlineMissed | CaseClosed | CaseStatus


def case_id(rule_id: str, provider_id: str, subject: str) -> str:
    return f"{rule_id}:{provider_id}:{subject}"


def of_fact_id(fact_id: str) -> str:
    """The case id inside a fact id (``<case id>/<KIND>/<obligation>``)."""
    return fact_id.rsplit("/", 2)[0]


# -- deciding a case -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """A unit's facts at a watermark, and the next instant at which the clock alone would change
    them (+inf when none)."""

    facts: tuple[Fact, ...] = ()
    next_due: float = math.inf

    def __add__(self, other: Decision) -> Decision:
        return Decision(self.facts + other.facts, min(self.next_due, other.next_due))


def earliest_meets(inputs: Iterable[Input]) -> dict[str, tuple[float, str]]:
    """Obligation → (time, event id) of the earliest input meeting it."""
    met: dict[str, tuple[float, str]] = {}
    for i in sorted(inputs):
        if i.role != OPEN and i.role not in met:
            met[i.role] = (i.at, i.event_id)
    return met


def decide(
    case: Case,
    met: Mapping[str, tuple[float, str]],
    watermark: float,
    parameters: tuple[tuple[str, str], ...] = (),
) -> Decision:
    """The facts of an opened case given what met its obligations, at ``watermark``."""
    facts: list[Fact] = [CaseOpened(case, parameters)]
    pending = math.inf
    missed: list[str] = []
    for name, due in case.dues:
        if name in met:
            at, by = met[name]
            if at > due:
                facts.append(DeadlineMissed(case, name, due))
                missed.append(name)
            facts.append(ObligationMet(case, name, at, by, at > due))
        elif watermark > due:
            facts.append(DeadlineMissed(case, name, due))
            missed.append(name)
        else:
            pending = min(pending, due)
    closed_at = None
    if all(name in met for name, _ in case.dues):
        closed_at = max(met[name][0] for name, _ in case.dues)
        facts.append(CaseClosed(case, closed_at))
    done = tuple(name for name, _ in case.dues if name in met)
    facts.append(CaseStatus(case, done, tuple(missed), closed_at, pending))
    return Decision(tuple(facts), pending)


def decide_one(
    rule_id: str,
    provider_id: str,
    subject: str,
    inputs: Sequence[Input],
    dues: Callable[[Input], tuple[dict[str, float], tuple[tuple[str, str], ...]]],
    watermark: float,
) -> Decision:
    """The common shape: one case per subject, opened by its earliest ``open`` input, with the
    dues (and the parameters behind them) that ``dues`` gives for that trigger."""
    opens = [i for i in inputs if i.role == OPEN]
    if not opens:
        return Decision()
    trigger = min(opens)
    due_at, parameters = dues(trigger)
    case = Case(
        case_id(rule_id, provider_id, subject),
        rule_id,
        provider_id,
        trigger.service_id,
        subject,
        trigger.at,
        trigger.event_id,
        tuple(sorted(due_at.items())),
    )
    return decide(case, earliest_meets(inputs), watermark, parameters)


# -- a unit's state and its revisions --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Emitted:
    """What was last emitted under a fact id: a digest of its content and when it was first
    detected."""

    digest: str
    detected_at: float


@dataclass(frozen=True, slots=True)
class Unit:
    inputs: tuple[Input, ...] = ()
    emitted: Mapping[str, Emitted] | None = None
    revision: int = 0
    # The next instant at which the clock alone changes this unit's facts (+inf: none).
    next_due: float = math.inf


@dataclass(frozen=True, slots=True)
class Stamped:
    """A fact to publish: when the platform first noticed it, and its revision (the store keeps
    the highest revision of each fact id)."""

    fact: Fact
    detected_at: float
    revision: int


@dataclass(frozen=True, slots=True)
class Retracted:
    """A fact emitted before that no longer holds."""

    fact_id: str
    revision: int


def every_input(inputs: tuple[Input, ...]) -> tuple[Input, ...]:
    """Keeps them all (a rule that reads a whole timeline)."""
    return inputs


def earliest_per_role(inputs: tuple[Input, ...]) -> tuple[Input, ...]:
    """Keeps the earliest input of each role: all that ``decide_one`` reads (the earliest
    ``open`` and the earliest meeting of each obligation), so a unit stays small however many
    events repeat a role, and the result is the same whatever the order they came in."""
    first: dict[str, Input] = {}
    for i in inputs:  # sorted
        if i.role not in first:
            first[i.role] = i
    return inputs if len(first) == len(inputs) else tuple(sorted(first.values()))


Keep = Callable[[tuple[Input, ...]], tuple[Input, ...]]


def add_inputs(unit: Unit, new: Iterable[Input], keep: Keep = every_input) -> Unit | None:
    """The unit with ``new`` inputs added (kept sorted, then only those ``keep`` keeps), or None
    when that changes nothing."""
    have = {i.key for i in unit.inputs}
    fresh = {i.key: i for i in new if i.key not in have}
    if not fresh:
        return None
    inputs = keep(tuple(sorted((*unit.inputs, *fresh.values()))))
    if inputs == unit.inputs:
        return None
    return Unit(inputs, unit.emitted, unit.revision)


def remove_inputs(unit: Unit, event_ids: Iterable[str]) -> Unit | None:
    """The unit without the inputs of ``event_ids`` (events withdrawn by their provider), or
    None when it had none of them."""
    gone = set(event_ids)
    inputs = tuple(i for i in unit.inputs if i.event_id not in gone)
    if len(inputs) == len(unit.inputs):
        return None
    return Unit(inputs, unit.emitted, unit.revision)


def tally(unit: Unit) -> tuple[int, int]:
    """(open, overdue) cases of a unit, from the facts it last emitted: a case is open from its
    OPENED fact until its CLOSED one, and overdue while open with a deadline missed."""
    opened: set[str] = set()
    closed: set[str] = set()
    missed: set[str] = set()
    for fact_id in unit.emitted or ():
        case, kind, _ = fact_id.rsplit("/", 2)
        if kind == "OPENED":
            opened.add(case)
        elif kind == "CLOSED":
            closed.add(case)
        elif kind == "DEADLINE_MISSED":
            missed.add(case)
    still = opened - closed
    return len(still), len(still & missed)


def _case_text(c: Case) -> str:
    return (
        f"Case(case_id={c.case_id!r}, rule_id={c.rule_id!r}, provider_id={c.provider_id!r},"
        f" service_id={c.service_id!r}, subject={c.subject!r}, opened_at={c.opened_at!r},"
        f" trigger_event_id={c.trigger_event_id!r}, dues={c.dues!r})"
    )


def text(fact: Fact) -> str:
    """``repr(fact)``, without the dataclasses' recursion guard (a tenth of the rules' time).
    A test holds it equal to ``repr`` for every kind of fact, so a field added is never left
    out of the digest."""
    case = _case_text(fact.case)
    if isinstance(fact, CaseOpened):
        return f"CaseOpened(case={case}, parameters={fact.parameters!r})"
    if isinstance(fact, ObligationMet):
        return (
            f"ObligationMet(case={case}, obligation={fact.obligation!r}, at={fact.at!r},"
            f" by_event_id={fact.by_event_id!r}, late={fact.late!r})"
        )
    if isinstance(fact, DeadlineMissed):
        return f"DeadlineMissed(case={case}, obligation={fact.obligation!r}, due={fact.due!r})"
    if isinstance(fact, CaseStatus):
        return (
            f"CaseStatus(case={case}, met={fact.met!r}, missed={fact.missed!r},"
            f" closed_at={fact.closed_at!r}, next_due={fact.next_due!r})"
        )
    return f"CaseClosed(case={case}, at={fact.at!r})"


def digest(fact: Fact) -> str:
    """A stable digest of a fact's content (the same in every process and run)."""
    return hashlib.blake2b(text(fact).encode(), digest_size=8).hexdigest()


def revise(
    unit: Unit, decision: Decision, now: float
) -> tuple[Unit, list[Stamped], list[Retracted]]:
    """Compare a unit's decided facts with those emitted before: the new or changed ones to
    publish (stamped with ``now`` when first seen), and the ones to retract."""
    before = dict(unit.emitted or {})
    # Increasing per unit, and with the clock (ms), so a unit rebuilt after its state was lost
    # still publishes revisions above those the store already holds.
    revision = max(unit.revision + 1, int(now * 1000) if math.isfinite(now) else 0)
    after: dict[str, Emitted] = {}
    changed: list[Stamped] = []
    for fact in decision.facts:
        d = digest(fact)
        old = before.pop(fact.fact_id, None)
        if old is not None and old.digest == d:
            after[fact.fact_id] = old
            continue
        detected = old.detected_at if old is not None else now
        after[fact.fact_id] = Emitted(d, detected)
        changed.append(Stamped(fact, detected, revision))
    retracted = [Retracted(fact_id, revision) for fact_id in sorted(before)]
    if not changed and not retracted:
        revision = unit.revision
    return Unit(unit.inputs, after, revision, decision.next_due), changed, retracted
