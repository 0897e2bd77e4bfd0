"""An accepted event as the rule engines see it: envelope facts and the body's fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Observed:
    """``body`` holds the body's fields by their contract names; enumerations by their short
    name (``"OUTPUT"``, ``"RECEIVED"``); repeated fields as tuples. ``at`` is event time (s)."""

    provider_id: str
    service_id: str
    event_id: str
    kind: str
    at: float
    body: Mapping[str, Any] = field(default_factory=dict)
    # The provider's earlier event this one replaces (Envelope.corrects_event_id), or "".
    corrects: str = ""

    def get(self, name: str, default: Any = None) -> Any:
        return self.body.get(name, default)

    @property
    def withdraws(self) -> str:
        """The provider's earlier event this one takes out of the rules' reckoning: the one it
        corrects, or the one a retraction withdraws ("" for none)."""
        if self.kind == RETRACTION:
            return str(self.body.get("retracted_event_id") or "")
        return self.corrects


# The body kind that withdraws an earlier event without replacing it.
RETRACTION = "retraction"
