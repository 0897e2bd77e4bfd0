"""The scenario library: short event histories, each showing one way a provider meets or breaks an
obligation, with the case facts and store-check alerts the platform must derive from it.

Each file in ``scenarios/`` holds events with offsets (``at``, seconds; ``times`` for timestamps
inside an event's body, e.g. a rectification's ``completed_at``) from a base time; loaded on
a base far enough in the past (``default_base``), every deadline in a history has passed, so what
the platform finds is final. The same histories check the rules engine in tests, and the
simulator injects them into its violating providers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from jianguan.contracts import pb
from jianguan.contracts.observed import AuthorityRecord
from jianguan.domain.calendar import CST

HERE = Path(__file__).parent / "scenarios"
HORIZON_S = 30 * 86400  # every history's events lie within this many seconds of its base

Fact = tuple[str, str, str, str]  # rule id, subject, CaseFactKind name, obligation
# An authority's record in a history: the authority's id and what it recorded (no provider set):
# a complaint made to it (Art. 18) or a demand (Art. 19, Art. 21).
Action = tuple[str, AuthorityRecord]


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    # Unsealed: each envelope carries only its event id and time; the reporter seals them.
    events: list[pb.event_pb2.Event]
    facts: set[Fact]
    # Store-check alerts: rule id -> evidence event ids (None: any evidence).
    alerts: dict[str, list[str] | None]
    # What authorities recorded (complaints made to them, orders to correct, inspection
    # requests), in order.
    actions: tuple[Action, ...] = ()

    def actions_for(self, provider_id: str, service: str = "svc") -> list[Action]:
        """The authorities' records, made of ``provider_id`` (whose history is on ``service``:
        the histories' own service ``svc`` becomes it)."""
        out: list[Action] = []
        for authority, record in self.actions:
            if isinstance(record, pb.authority_pb2.AuthorityComplaint):
                complaint = pb.authority_pb2.AuthorityComplaint()
                complaint.CopyFrom(record)
                complaint.provider_id = provider_id
                if complaint.service_id == "svc":
                    complaint.service_id = service
                out.append((authority, complaint))
                continue
            action = pb.authority_pb2.AuthorityAction()
            action.CopyFrom(record)
            demand = getattr(action, action.WhichOneof("action") or "")
            demand.provider_id = provider_id
            services = [service if s == "svc" else s for s in demand.service_ids]
            del demand.service_ids[:]
            demand.service_ids.extend(services)
            out.append((authority, action))
        return out

    @property
    def authorities(self) -> set[str]:
        """The authorities whose records the history holds."""
        return {authority for authority, _ in self.actions}

    @property
    def violations(self) -> set[tuple[str, str]]:
        """(rule id, obligation) of every alert the history must raise; obligation is empty for
        store-check alerts."""
        missed = {
            (rule, obligation)
            for rule, _, kind, obligation in self.facts
            if kind == "DEADLINE_MISSED"
        }
        return missed | {(rule, "") for rule in self.alerts}


def default_base(now: float) -> float:
    """A base at least a day more than the horizon before ``now``, at 00:00 Beijing time: hourly
    and daily counts (e.g. the Art. 12 labeling check's hours) then group a history's events the
    same way whenever it is loaded."""
    start = now - HORIZON_S - 86400
    ahead = CST.utcoffset(None).total_seconds()
    return start - (start + ahead) % 86400


def load_all(base: float) -> list[Scenario]:
    out = []
    for path in sorted(HERE.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        events = []
        for spec in doc["events"]:
            ev = pb.Event()
            kind = next(k for k in spec if k not in ("id", "at", "times", "corrects"))
            body = getattr(ev, kind)
            json_format.ParseDict(spec[kind], body)
            ev.envelope.event_id = spec["id"]
            ev.envelope.corrects_event_id = spec.get("corrects", "")
            ev.envelope.occurred_at.seconds = int(base + spec["at"])
            # Timestamps inside the body, as offsets from the base like ``at``.
            for name, offset in spec.get("times", {}).items():
                getattr(body, name).seconds = int(base + offset)
            events.append(ev)
        actions = tuple(_action(spec, base) for spec in doc.get("actions", []))
        facts = {(f[0], f[1], f[2], f[3]) for f in doc["facts"]}
        alerts = {rule: evidence for rule, evidence in doc.get("alerts", [])}
        description = doc.get("description", "")
        out.append(Scenario(path.stem, description, events, facts, alerts, actions))
    return out


def _action(spec: dict[str, Any], base: float) -> Action:
    """An authority's record: a complaint made to it (``complaint``: ``at`` is when it received
    it) or a demand (``at``: its ``issued_at``); ``times`` its other timestamps."""
    kind = next(k for k in spec if k not in ("authority", "at", "times"))
    record: AuthorityRecord
    if kind == "complaint":
        record = pb.authority_pb2.AuthorityComplaint()
        json_format.ParseDict(spec[kind], record)
        record.received_at.seconds = int(base + float(spec["at"]))
        target: Any = record
    else:
        record = pb.authority_pb2.AuthorityAction()
        target = getattr(record, kind)
        json_format.ParseDict(spec[kind], target)
        target.issued_at.seconds = int(base + float(spec["at"]))
    for name, offset in spec.get("times", {}).items():
        getattr(target, name).seconds = int(base + offset)
    return str(spec["authority"]), record


def by_name(base: float) -> dict[str, Scenario]:
    return {s.name: s for s in load_all(base)}
