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

    def get(self, name: str, default: Any = None) -> Any:
        return self.body.get(name, default)
