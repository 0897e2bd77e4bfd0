"""Did the platform find what the simulator injected? The manifest's violations against the
alerts in ClickHouse, for the manifest's providers only (other traffic on a shared platform is not
the simulator's business)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jianguan.store.alert_records import offshore_alert_evidence, standing_alerts
from jianguan.store.executor import Executor
from jianguan.store.reader import reporters_of

Key = tuple[str, str, str]  # provider, rule, obligation ("" for a store-check alert)


def expected(manifest: dict[str, Any]) -> set[Key]:
    return {(v["provider_id"], v["rule_id"], v["obligation"]) for v in manifest["violations"]}


def found(executor: Executor, providers: list[str]) -> set[Key]:
    out = set()
    for alert in standing_alerts(executor, providers):
        # A case alert is one per missed obligation: "<case>/DEADLINE_MISSED/<obligation>".
        _, marker, obligation = alert.alert_id.rpartition("/DEADLINE_MISSED/")
        out.add((alert.provider_id, alert.rule_id, obligation if marker else ""))
    return out | _offshore_found(executor, providers)


def _offshore_found(executor: Executor, providers: list[str]) -> set[Key]:
    """An offshore alert belongs to no provider (Art. 20 is about the offshore service): it is
    found for each provider whose observations it cites."""
    cited = offshore_alert_evidence(executor)
    reporters = reporters_of(executor, "offshore_observation", providers, cited)
    return {(provider, "ART20-OFFSHORE", "") for provider in reporters}


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
