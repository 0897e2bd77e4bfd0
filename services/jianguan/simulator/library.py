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

from google.protobuf import json_format

from jianguan.contracts import pb
from jianguan.domain.calendar import CST

HERE = Path(__file__).parent / "scenarios"
HORIZON_S = 30 * 86400  # every history's events lie within this many seconds of its base

Fact = tuple[str, str, str, str]  # rule id, subject, CaseFactKind name, obligation


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    # Unsealed: each envelope carries only its event id and time; the reporter seals them.
    events: list[pb.event_pb2.Event]
    facts: set[Fact]
    # Store-check alerts: rule id -> evidence event ids (None: any evidence).
    alerts: dict[str, list[str] | None]

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
            kind = next(k for k in spec if k not in ("id", "at", "times"))
            body = getattr(ev, kind)
            json_format.ParseDict(spec[kind], body)
            ev.envelope.event_id = spec["id"]
            ev.envelope.occurred_at.seconds = int(base + spec["at"])
            # Timestamps inside the body, as offsets from the base like ``at``.
            for name, offset in spec.get("times", {}).items():
                getattr(body, name).seconds = int(base + offset)
            events.append(ev)
        facts = {(f[0], f[1], f[2], f[3]) for f in doc["facts"]}
        alerts = {rule: evidence for rule, evidence in doc.get("alerts", [])}
        out.append(Scenario(path.stem, doc.get("description", ""), events, facts, alerts))
    return out


def by_name(base: float) -> dict[str, Scenario]:
    return {s.name: s for s in load_all(base)}
