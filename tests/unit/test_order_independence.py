"""A case's facts depend only on its events: every scenario of the library, and realistic
traffic, shuffled and cut into batches of every size, gives the facts of the ordered history
(as the store holds them: the last revision of each fact, retractions applied)."""

from __future__ import annotations

import random
import time

import pytest

from jianguan.contracts import pb
from jianguan.contracts.observed import observed
from jianguan.domain.events import Observed
from jianguan.processors.engine import RulesEngine
from jianguan.simulator.traffic import ProviderTraffic
from tests.scenarios.library import Scenario, load_all, standing

NOW = time.time()
SCENARIOS = load_all()


def final_facts(
    events: list[pb.event_pb2.Event] | list[Observed],
    provider: str,
    rng: random.Random | None = None,
) -> dict[str, bytes]:
    """The facts after delivering ``events`` (shuffled and batched by ``rng``, with the clock
    ticking at random instants between batches), then the clock reaching NOW."""
    seen = [
        o
        for o in (ev if isinstance(ev, Observed) else observed(ev, provider) for ev in events)
        if o is not None
    ]
    size = len(seen) or 1
    if rng is not None:
        rng.shuffle(seen)
        size = rng.choice((1, 2, 3, 7, 50))
    batches = [seen[i : i + size] for i in range(0, len(seen), size)]
    # The wall clock runs from the first event to NOW while the batches arrive: deadlines pass
    # (and misses go out) before the events that answer them come in.
    first = min((o.at for o in seen), default=NOW)
    clock = sorted(rng.uniform(first, NOW) for _ in batches) if rng else [NOW] * len(batches)
    engine = RulesEngine({})
    facts = []
    for batch, now in zip(batches, clock, strict=True):
        facts += engine.process(batch, now=now)
        if rng is not None and rng.random() < 0.5:
            facts += engine.tick(now)
    facts += engine.tick(NOW)
    return current(facts)


def current(facts: list[pb.cases_pb2.CaseFact]) -> dict[str, bytes]:
    """What the store holds after these facts: the highest revision of each fact id, unless
    retracted; without detection time and revision (processing metadata)."""
    out = {}
    for f in standing(facts):
        fact = pb.cases_pb2.CaseFact()
        fact.CopyFrom(f)
        fact.ClearField("detected_at")
        fact.ClearField("revision")
        out[f.fact_id] = fact.SerializeToString(deterministic=True)
    return out


@pytest.mark.parametrize("scenario", [pytest.param(s, id=s.name) for s in SCENARIOS])
def test_every_order_and_batching_gives_the_same_facts(scenario: Scenario) -> None:
    history = scenario.observations()  # the authorities' records among the events
    ordered = final_facts(history, scenario.provider_id)
    for seed in range(30):
        shuffled = final_facts(history, scenario.provider_id, random.Random(seed))
        assert shuffled == ordered, f"seed {seed}"


def test_realistic_traffic_in_any_order() -> None:
    events = ProviderTraffic("t-ai", ("svc-1", "svc-2"), seed=3).events(
        3000, NOW - 3 * 86400, service="svc-1"
    )
    ordered = final_facts(events, "t-ai")
    assert len(ordered) > 10
    for seed in range(3):
        assert final_facts(events, "t-ai", random.Random(seed)) == ordered


def test_a_rule_routes_only_the_kinds_it_declares() -> None:
    """The engine routes an event only to the rules declaring its kind: no rule may route an
    event of another kind (over every scenario of the library and the realistic mix)."""
    from jianguan.domain.rules.active import RELEVANT_KINDS

    engine = RulesEngine({})
    events = [ev for s in SCENARIOS for ev in s.events]
    events += ProviderTraffic("mix", ("svc-1", "svc-2"), seed=3).events(5000, NOW)
    routed = 0
    for ev in events:
        seen = observed(ev, "p")
        if seen is None:
            continue
        for rule in engine.rules.values():
            given = rule.route(seen)
            routed += len(given)
            if seen.kind not in rule.kinds:
                assert given == [], (rule.rule_id, seen.kind)
            if given:
                assert seen.kind in RELEVANT_KINDS
    assert routed > 100  # the check above ran on events that matter
