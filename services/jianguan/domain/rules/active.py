"""The SLA rules the engine runs (``processors.engine``), and the event kinds they read. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from jianguan.domain.cases import Decision, Input
from jianguan.domain.events import RETRACTION, Observed
from jianguan.domain.rules.demands import CorrectionOrders, Inspections
from jianguan.domain.rules.sla import (
    AuthorityComplaints,
    ComplaintProcess,
    Complaints,
    IllegalContent,
    PersonalInfoRequests,
    PublishedUse,
    UserAgreement,
    UserEnforcement,
)

RULE_CLASSES = (
    IllegalContent, Complaints, UserEnforcement, AuthorityComplaints, ComplaintProcess,
    PersonalInfoRequests, CorrectionOrders, Inspections, PublishedUse, UserAgreement,
)  # fmt: skip
# Only these kinds can change rule state; everything else skips the rules entirely. A retraction
# can: it withdraws an event the rules hold.
RELEVANT_KINDS = frozenset().union(*(r.kinds for r in RULE_CLASSES), {RETRACTION})


class SlaRule(Protocol):
    rule_id: str
    kinds: frozenset[str]

    def keep(self, inputs: tuple[Input, ...]) -> tuple[Input, ...]:
        """Of a unit's inputs (sorted), those its decisions can read; the rest are dropped."""
        ...

    def route(self, ev: Observed) -> list[tuple[str, Input]]: ...

    def decide(
        self, provider_id: str, unit: str, inputs: Sequence[Input], watermark: float
    ) -> Decision: ...
