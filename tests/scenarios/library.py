"""The package's scenario library, one provider per scenario (``sc-<name>``), each history sealed
on service ``svc``."""

from __future__ import annotations

import time
from dataclasses import dataclass

from jianguan.contracts import pb
from jianguan.contracts.observed import observed, observed_authority_record
from jianguan.domain.events import Observed
from jianguan.simulator import library
from jianguan_sdk.chain import Chain

HORIZON_S = library.HORIZON_S


@dataclass(frozen=True)
class Scenario:
    name: str
    provider_id: str
    events: list[pb.event_pb2.Event]
    facts: set[tuple[str, str, str, str]]
    # Store-check alerts expected: rule id -> evidence (None: any evidence).
    alerts: dict[str, list[str] | None]
    # What authorities recorded of this provider: (authority id, action).
    actions: list[library.Action]

    def observations(self) -> list[Observed]:
        """Everything the rules read of this history: its events and the authorities' records."""
        seen = [observed(ev, self.provider_id) for ev in self.events]
        seen += [observed_authority_record(a, who) for who, a in self.actions]
        return [o for o in seen if o is not None]


def load_all(base: float | None = None) -> list[Scenario]:
    base = base if base is not None else library.default_base(time.time())
    out = []
    for s in library.load_all(base):
        chain = Chain("svc")
        events = [chain.seal(ev) for ev in s.events]
        provider = "sc-" + s.name.replace("_", "-")
        out.append(Scenario(s.name, provider, events, s.facts, s.alerts, s.actions_for(provider)))
    return out


def standing(facts: list[pb.cases_pb2.CaseFact]) -> list[pb.cases_pb2.CaseFact]:
    """What the store holds after these facts: the highest revision of each fact id, unless
    retracted (in the order each id was first published)."""
    latest: dict[str, pb.cases_pb2.CaseFact] = {}
    for f in facts:
        if f.fact_id not in latest or f.revision >= latest[f.fact_id].revision:
            latest[f.fact_id] = f
    return [f for f in latest.values() if not f.retracted]
