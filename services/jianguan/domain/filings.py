"""Art. 17 filings over time: which filing was in effect when a public-opinion service served. Pure.

Art. 17 asks a service with public-opinion attributes or social-mobilisation capacity to carry out
a security assessment (开展安全评估) and to complete the algorithm filing, change and cancellation
formalities of the Algorithm Recommendation Provisions (履行…备案手续). Both are formalities the
provider performs: a SUBMITTED filing or assessment meets them as much as a GRANTED one, and a
REJECTED or REVOKED one leaves the service without it from that moment. What counts is the latest
status of each filing as of each moment the service served, never whether it was granted once.

The status of a kind (or of a kind naming a model) at an instant is that of its latest event at or
before the instant (ties: the later event id). Service is known by the hour (``served_hours``), so
an hour counts against the provider only when no moment of it had the filing in effect: a filing
submitted or revoked within the hour gives the benefit of the doubt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

# jianguan.v1 FilingKind and FilingStatus numbers (held equal to the proto by a unit test).
REGISTRATION, ASSESSMENT, ALGORITHM_FILING, CHANGE, CANCELLATION = 1, 2, 3, 4, 5
SUBMITTED, GRANTED, REJECTED, REVOKED = 1, 2, 3, 4
IN_EFFECT = frozenset({SUBMITTED, GRANTED})
STATUS_NAMES = {
    SUBMITTED: "submitted",
    GRANTED: "granted",
    REJECTED: "rejected",
    REVOKED: "revoked",
}
HOUR = 3600


@dataclass(frozen=True, slots=True, order=True)
class Filing:
    at: int  # UNIX seconds
    event_id: str
    kind: int
    status: int
    model: str = ""
    public_opinion: bool = False


def _history(filings: Iterable[Filing], kinds: frozenset[int], model: str | None) -> list[Filing]:
    return sorted(f for f in filings if f.kind in kinds and (model is None or f.model == model))


@dataclass(frozen=True, slots=True)
class Timeline:
    """The status over time of the filings of some kinds (and, optionally, naming one model)."""

    events: tuple[Filing, ...]

    @classmethod
    def of(
        cls, filings: Iterable[Filing], kinds: Iterable[int], model: str | None = None
    ) -> Timeline:
        return cls(tuple(_history(filings, frozenset(kinds), model)))

    def latest(self, at: int) -> Filing | None:
        last = None
        for f in self.events:
            if f.at > at:
                break
            last = f
        return last

    def in_effect(self, at: int) -> bool:
        last = self.latest(at)
        return last is not None and last.status in IN_EFFECT

    def in_effect_during(self, start: int, end: int) -> bool:
        """Whether some moment of [start, end) had a filing in effect."""
        if self.in_effect(start):
            return True
        return any(start < f.at < end and f.status in IN_EFFECT for f in self.events)

    def in_effect_since(self, at: int) -> int | None:
        """When the filing in effect at ``at`` last came into effect (None if none is)."""
        since = None
        for f in self.events:
            if f.at > at:
                break
            if f.status not in IN_EFFECT:
                since = None
            elif since is None:
                since = f.at
        return since


def public_opinion(filings: Iterable[Filing], at: int) -> bool:
    """Whether the service's latest registration at ``at`` declares public-opinion attributes
    or social-mobilisation capacity."""
    last = Timeline.of(filings, (REGISTRATION,)).latest(at)
    return last is not None and last.public_opinion


@dataclass(frozen=True, slots=True)
class Unfiled:
    """Hours a service served after a formality was due, with none in effect."""

    kind: int
    due: int
    hours: tuple[int, ...]
    latest: Filing | None  # the kind's latest event as of the last such hour


def unfiled_hours(
    filings: Sequence[Filing], served_hours: Iterable[int], kind: int, due: int
) -> Unfiled | None:
    """The served hours (their starts) with a moment after ``due`` at which the service served
    and no filing of ``kind`` was in effect for the whole of that part of the hour."""
    timeline = Timeline.of(filings, (kind,))
    hours = tuple(
        h
        for h in sorted(set(served_hours))
        if h + HOUR > due and not timeline.in_effect_during(max(h, due), h + HOUR)
    )
    if not hours:
        return None
    return Unfiled(kind, due, hours, timeline.latest(hours[-1] + HOUR - 1))


@dataclass(frozen=True, slots=True)
class LaterModel:
    """A model first served after the service's first model, and the formality naming it that it
    lacks (a change filing, or a security assessment)."""

    model: str
    first_served: int
    due: int
    in_effect_since: int | None  # of the filing naming it in effect now (None: none is)
    latest: Filing | None

    @property
    def late(self) -> bool:
        return self.in_effect_since is not None and self.in_effect_since > self.due


def later_models(
    filings: Sequence[Filing],
    models: Iterable[tuple[str, int]],
    now: int,
    due_of: Callable[[int], int],
    kinds: Iterable[int] = (ALGORITHM_FILING, CHANGE),
) -> list[LaterModel]:
    """Each model (name, first served) served after the service's first model, that by ``now``
    has no filing of ``kinds`` naming it in effect once its due (``due_of(first served)``)
    passed, or got one only after that.

    The models served first are the service's own formalities (``unfiled_hours``: its algorithm
    filing and its security assessment), not a change; a later model needs an algorithm or
    change filing naming it (the default ``kinds``), and a security assessment naming it
    (``kinds=(ASSESSMENT,)``: a new model is a change of how the service is technically
    implemented, which calls for assessing it again)."""
    served = sorted((first, model) for model, first in models if model)
    if not served:
        return []
    launch = served[0][0]
    kinds = tuple(kinds)
    out = []
    for first, model in served:
        if first == launch:
            continue
        timeline = Timeline.of(filings, kinds, model)
        due = due_of(first)
        since = timeline.in_effect_since(now)
        if (since is None and now > due) or (since is not None and since > due):
            out.append(LaterModel(model, first, due, since, timeline.latest(now)))
    return out
