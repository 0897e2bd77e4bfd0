"""Who the simulated fleet is: compliant providers, and providers that each break one rule by
carrying one violating history from the scenario library. Pure: the plan and its manifest are a
function of (providers, seed, scenario)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from jianguan.domain.rules.catalog import BY_ID
from jianguan.simulator.library import Scenario

NAMES = (
    "hanlin", "qingyun", "dongfang", "zhiyuan", "xinghe", "lanting", "jinshi", "yunfan",
    "huaxia", "mingde", "tianqi", "baize", "kunlun", "wanxiang", "shuguang", "beidou",
)  # fmt: skip
SHAPES = (("chat",), ("chat", "image"), ("chat", "image", "kids"), ("chat", "video"), ("image",))
MIXED, COMPLIANT = "mixed", "compliant"


@dataclass(frozen=True, slots=True)
class SimProvider:
    provider_id: str
    kinds: tuple[str, ...]  # its live services: chat, image, video, kids
    history: str | None  # the scenario injected on service ``<id>-history``, if any

    @property
    def history_service(self) -> str:
        return f"{self.provider_id}-history"


def authority_token_key(authority_id: str) -> str:
    """Where a tokens file keeps an authority's token beside the providers' (a provider id holds
    no colon)."""
    return f"authority:{authority_id}"


def authorities(fleet: list[SimProvider], library: dict[str, Scenario]) -> list[str]:
    """The authorities whose records the fleet's histories hold (each needs an account)."""
    return sorted({a for p in fleet if p.history for a in library[p.history].authorities})


def provider_id(i: int) -> str:
    base = f"{NAMES[i % len(NAMES)]}-ai"
    return base if i < len(NAMES) else f"{base}-{i // len(NAMES) + 1}"


def scenario_names(library: dict[str, Scenario]) -> list[str]:
    """``mixed``, ``compliant``, then every violating history by name."""
    return [MIXED, COMPLIANT, *violating(library)]


def violating(library: dict[str, Scenario]) -> list[str]:
    return sorted(name for name, s in library.items() if s.violations)


def plan(
    providers: int, seed: int, scenario: str, library: dict[str, Scenario]
) -> list[SimProvider]:
    """``mixed``: one provider per violating history (as many as fit while one stays compliant);
    the rest compliant, some carrying a compliant history. ``compliant``: nobody violates.
    A history's name: half the providers carry it."""
    if providers < 1:
        raise ValueError("at least one provider")
    bad = violating(library)
    good = sorted(name for name, s in library.items() if not s.violations)
    if scenario not in (MIXED, COMPLIANT) and scenario not in bad:
        raise ValueError(f"unknown scenario {scenario!r}; use one of: {scenario_names(library)}")
    rng = random.Random(seed)
    if scenario == MIXED:
        rng.shuffle(bad)
        histories: list[str | None] = list(bad[: max(0, providers - 1)])
    elif scenario == COMPLIANT:
        histories = []
    else:
        histories = [scenario] * (providers // 2 or 1)
    while len(histories) < providers:
        histories.append(good[len(histories) % len(good)] if good and rng.random() < 0.5 else None)
    rng.shuffle(histories)
    return [SimProvider(provider_id(i), rng.choice(SHAPES), histories[i]) for i in range(providers)]


def manifest(
    fleet: list[SimProvider], library: dict[str, Scenario], meta: dict[str, Any]
) -> dict[str, Any]:
    """The violations injected: each alert the platform must raise, and (by omission) that it
    must raise no other. ``obligation`` is set for missed case deadlines, empty for alerts from
    store checks."""
    violations = []
    for p in fleet:
        if p.history is None:
            continue
        s = library[p.history]
        for rule_id, obligation in sorted(s.violations):
            violations.append(
                {
                    "provider_id": p.provider_id,
                    "service_id": p.history_service,
                    "rule_id": rule_id,
                    "article": BY_ID[rule_id].article.ref,
                    "obligation": obligation,
                    "scenario": s.name,
                    "description": s.description,
                }
            )
    return {
        **meta,
        "providers": [
            {"provider_id": p.provider_id, "services": list(p.kinds), "history": p.history}
            for p in fleet
        ],
        "violations": violations,
    }
