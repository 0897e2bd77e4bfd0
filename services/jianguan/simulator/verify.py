"""Did the platform find what the simulator injected? The manifest's violations against the
alerts in ClickHouse, for the manifest's providers only (other traffic on a shared platform is not
the simulator's business)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jianguan.contracts import pb
from jianguan.store.executor import Executor

Key = tuple[str, str, str]  # provider, rule, obligation ("" for a store-check alert)


def expected(manifest: dict[str, Any]) -> set[Key]:
    return {(v["provider_id"], v["rule_id"], v["obligation"]) for v in manifest["violations"]}


def found(executor: Executor, providers: list[str]) -> set[Key]:
    rows = executor.execute(
        "SELECT provider_id, rule_id, alert_id FROM alerts FINAL"
        " WHERE retracted = 0 AND provider_id IN %(p)s",
        {"p": tuple(providers) or ("",)},
    )
    out = set()
    for provider, rule, alert_id in rows:
        # A case alert is one per missed obligation: "<case>/DEADLINE_MISSED/<obligation>".
        _, marker, obligation = str(alert_id).rpartition("/DEADLINE_MISSED/")
        out.add((provider, rule, obligation if marker else ""))
    return out | _offshore_found(executor, providers)


def _offshore_found(executor: Executor, providers: list[str]) -> set[Key]:
    """An offshore alert belongs to no provider (Art. 20 is about the offshore service): it is
    found for each provider whose observations it cites."""
    cited = {
        str(event_id)
        for (evidence,) in executor.execute(
            "SELECT evidence FROM alerts FINAL"
            " WHERE retracted = 0 AND provider_id = '' AND rule_id = 'ART20-OFFSHORE'"
        )
        for event_id in evidence
    }
    if not cited or not providers:
        return set()
    rows = executor.execute(
        "SELECT DISTINCT provider_id FROM events"
        f" WHERE kind = {pb.BODY_KINDS['offshore_observation']} AND provider_id IN %(p)s"
        " AND event_id IN %(ids)s",
        {"p": tuple(providers), "ids": tuple(sorted(cited))},
    )
    return {(str(provider), "ART20-OFFSHORE", "") for (provider,) in rows}


@dataclass(frozen=True)
class Comparison:
    missing: set[Key]  # injected, not found
    unexpected: set[Key]  # found, never injected

    @property
    def ok(self) -> bool:
        return not self.missing and not self.unexpected

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "missing": sorted(list(k) for k in self.missing),
            "unexpected": sorted(list(k) for k in self.unexpected),
        }


def compare(manifest: dict[str, Any], executor: Executor) -> Comparison:
    providers = [p["provider_id"] for p in manifest["providers"]]
    want, got = expected(manifest), found(executor, providers)
    return Comparison(want - got, got - want)
