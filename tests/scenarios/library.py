"""Loads the scenario files: events built on a base time in the past (so every deadline in them
has passed), one provider per scenario, and the facts expected of it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import json_format

from jianguan.contracts import pb
from jianguan.contracts.chain import Chain

HERE = Path(__file__).parent
HORIZON_S = 30 * 86400  # every scenario's events lie within this many seconds of its base


@dataclass(frozen=True)
class Scenario:
    name: str
    provider_id: str
    events: list[pb.event_pb2.Event]
    facts: set[tuple[str, str, str, str]]
    # Store-check alerts expected: rule id -> evidence (None: any evidence).
    alerts: dict[str, list[str] | None]


def load_all(base: float | None = None) -> list[Scenario]:
    base = base if base is not None else time.time() - HORIZON_S - 86400
    out = []
    for path in sorted(HERE.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        name = path.stem
        chain = Chain("svc")
        events = []
        for spec in doc["events"]:
            ev = pb.Event()
            kind = next(k for k in spec if k not in ("id", "at"))
            json_format.ParseDict(spec[kind], getattr(ev, kind))
            ev.envelope.event_id = spec["id"]
            ev.envelope.occurred_at.seconds = int(base + spec["at"])
            events.append(chain.seal(ev))
        facts = {tuple(f) for f in doc["facts"]}
        alerts = {rule: evidence for rule, evidence in doc.get("alerts", [])}
        provider = "sc-" + name.replace("_", "-")
        out.append(Scenario(name, provider, events, facts, alerts))  # type: ignore[arg-type]
    return out
