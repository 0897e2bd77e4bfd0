"""The simulator's plan, manifest and compliant traffic (pure)."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from jianguan.contracts import pb
from jianguan.contracts.observed import observed
from jianguan.domain.calendar import CST
from jianguan.processors.engine import RulesEngine
from jianguan.simulator import fleet
from jianguan.simulator.compliant import CompliantProvider
from jianguan.simulator.library import HORIZON_S, by_name, default_base
from jianguan_sdk.chain import Chain
from jianguan_sdk.validation import validate

LIBRARY = by_name(default_base(time.time()))


def test_a_mixed_plan_carries_every_violation_once_and_keeps_compliant_providers() -> None:
    n = len(fleet.violating(LIBRARY)) + 2  # room for every violation and compliant providers
    plan = fleet.plan(n, 3, fleet.MIXED, LIBRARY)
    histories = [p.history for p in plan if p.history in fleet.violating(LIBRARY)]
    assert sorted(histories) == fleet.violating(LIBRARY)
    assert any(p.history is None or p.history not in histories for p in plan)
    assert len({p.provider_id for p in plan}) == n
    assert fleet.plan(n, 3, fleet.MIXED, LIBRARY) == plan  # seeded
    assert fleet.plan(n, 4, fleet.MIXED, LIBRARY) != plan


def test_small_and_single_rule_plans() -> None:
    assert all(p.history is None or not LIBRARY[p.history].violations
               for p in fleet.plan(5, 1, fleet.COMPLIANT, LIBRARY))  # fmt: skip
    one = fleet.plan(6, 1, "unlabeled_images", LIBRARY)
    assert sum(p.history == "unlabeled_images" for p in one) == 3
    with pytest.raises(ValueError, match="unknown scenario 'nope'"):
        fleet.plan(3, 1, "nope", LIBRARY)


def test_the_manifest_lists_each_injected_violation_with_its_article() -> None:
    n = len(fleet.violating(LIBRARY)) + 2  # room for every violating history
    plan = fleet.plan(n, 3, fleet.MIXED, LIBRARY)
    doc = fleet.manifest(plan, LIBRARY, {"seed": 3})
    rows = {(v["scenario"], v["rule_id"], v["obligation"], v["article"]) for v in doc["violations"]}
    assert ("unlabeled_images", "ART12-LABELING", "", "Art. 12") in rows
    assert ("illegal_output_unreported", "ART14-ILLEGAL-CONTENT", "report", "Art. 14 ¶1") in rows
    assert doc["seed"] == 3
    assert len(doc["providers"]) == n


def test_every_rule_that_can_be_violated_has_a_violating_history() -> None:
    """The simulator can inject a violation of every active rule (the grade is no violation)."""
    from jianguan.domain.rules.catalog import CATALOG

    violated = {rule for s in LIBRARY.values() for rule, _ in s.violations}
    unviolated = {r.id for r in CATALOG if r.active} - violated
    assert unviolated == {"ART16-GRADE"}


def test_a_historys_authority_records_are_made_of_its_provider_and_service() -> None:
    history = LIBRARY["inspection_partly_answered"]
    plan = fleet.plan(4, 1, "inspection_partly_answered", LIBRARY)
    assert fleet.authorities(plan, LIBRARY) == ["cac-bj"]
    (carrier, *_) = [p for p in plan if p.history]
    ((authority, action),) = history.actions_for(carrier.provider_id, carrier.history_service)
    request = action.inspection_request
    assert (authority, request.provider_id, list(request.service_ids)) == (
        "cac-bj", carrier.provider_id, [carrier.history_service],
    )  # fmt: skip
    assert history.actions[0][1].inspection_request.provider_id == ""  # the library unchanged
    rows = {
        (v["rule_id"], v["obligation"]) for v in fleet.manifest(plan, LIBRARY, {})["violations"]
    }
    assert rows == {("ART19-INSPECTION", "annotation_rules")}


def _compliant_traffic(seconds: int) -> tuple[list[pb.event_pb2.Event], float]:
    provider = CompliantProvider("acme-ai", 5, "t1", ("chat", "image", "kids"))
    start = time.time() - seconds - 3600
    chains: dict[str, Chain] = {}
    out = []
    for step in range(seconds * 5):
        now = start + step * 0.2
        batch = provider.opening(now) if step == 0 else provider.events(40, now)
        for service, ev in batch:
            chain = chains.setdefault(service, Chain(service))
            out.append(chain.seal(ev))
    return out, start + seconds


def test_compliant_traffic_is_valid_and_breaks_no_case_rule() -> None:
    events, end = _compliant_traffic(300)  # 60,000 events over five simulated minutes
    kinds = {ev.WhichOneof("body") for ev in events}
    assert kinds >= {"generation", "moderation", "user_enforcement", "complaint",
                     "personal_info_request", "service_filing", "incident_report",
                     "model_rectification", "offshore_observation"}  # fmt: skip
    problems = [validate(ev, end + 60) for ev in events]
    assert [p for p in problems if p is not None] == []
    engine = RulesEngine({})
    seen = [observed(ev, "acme-ai") for ev in events]
    facts = engine.process([s for s in seen if s is not None], now=end)
    # A year later every deadline has passed: only obligations met late or never would show.
    facts += engine.tick(end + 365 * 86400)
    missed = [f for f in facts if f.kind == pb.cases_pb2.CASE_FACT_KIND_DEADLINE_MISSED]
    opened = [f for f in facts if f.kind == pb.cases_pb2.CASE_FACT_KIND_OPENED]
    assert opened, "the traffic opened no case: the test would prove nothing"
    # Complaints and requests still waiting for their follow-up at the end are not breaches yet;
    # everything older than the last 30 s was answered.
    opened_at = {f.case_id: f.at.seconds for f in opened}
    late = [f for f in missed if opened_at[f.case_id] < end - 30]
    assert late == []
    assert len(missed) > len(late)  # the cut-off only spares cases opened in the last 30 s


class _Alerts:
    """Stands in for ClickHouse: the alerts of providers, (provider, rule, alert id) rows; the
    offshore alerts (no provider), their evidence; the offshore observations, (provider, id)."""

    def __init__(
        self,
        rows: list[tuple[str, str, str]],
        offshore: list[list[str]] | None = None,
        observations: list[tuple[str, str]] | None = None,
    ) -> None:
        self.rows = rows
        self.offshore = offshore or []
        self.observations = observations or []
        self.params: dict[str, object] = {}

    def execute(
        self, sql: str, params: dict[str, object] | None = None
    ) -> list[tuple[object, ...]]:
        if "SELECT evidence" in sql:
            return [(evidence,) for evidence in self.offshore]
        if "FROM events" in sql:
            assert params is not None
            ids, providers = params["ids"], params["p"]
            return sorted({(p,) for p, i in self.observations if i in ids and p in providers})  # type: ignore[operator]
        self.params = params or {}
        return list(self.rows)


def test_the_check_names_what_is_missing_and_what_nobody_injected() -> None:
    from jianguan.simulator.verify import compare

    manifest = {
        "providers": [{"provider_id": "p1"}, {"provider_id": "p2"}],
        "violations": [
            {"provider_id": "p1", "rule_id": "ART12-LABELING", "obligation": ""},
            {"provider_id": "p1", "rule_id": "ART15-COMPLAINT", "obligation": "resolve"},
            {"provider_id": "p2", "rule_id": "ART11-PI-REQUEST", "obligation": "answer"},
        ],
    }
    alerts = _Alerts([
        ("p1", "ART12-LABELING", "ART12-LABELING:p1:img:2026-11-27 10:00:00"),
        ("p1", "ART15-COMPLAINT", "ART15-COMPLAINT:p1:c-9/DEADLINE_MISSED/resolve"),
        ("p2", "ART10-MINORS", "ART10-MINORS:p2:kids:u@2026-11-27"),
    ])  # fmt: skip
    result = compare(manifest, alerts)  # type: ignore[arg-type]
    assert alerts.params == {"p": ("p1", "p2")}
    assert result.missing == {("p2", "ART11-PI-REQUEST", "answer")}
    assert result.unexpected == {("p2", "ART10-MINORS", "")}
    assert not result.ok
    assert result.as_json()["missing"] == [["p2", "ART11-PI-REQUEST", "answer"]]


def test_an_offshore_alert_is_found_for_each_provider_whose_observations_it_cites() -> None:
    from jianguan.simulator.verify import found

    alerts = _Alerts(
        [], offshore=[["obs-1", "obs-9"]], observations=[("p1", "obs-1"), ("p3", "obs-9")]
    )
    assert found(alerts, ["p1", "p2"]) == {("p1", "ART20-OFFSHORE", "")}  # type: ignore[arg-type]


@pytest.mark.parametrize("now", [1796367492.0, 1796367492.0 + 3590, 1796400000.5, 1796428799.0])
def test_the_library_base_is_a_beijing_midnight_a_day_beyond_the_horizon(now: float) -> None:
    # hourly and daily counts must group a history's events alike whenever it is loaded
    base = default_base(now)
    at = datetime.fromtimestamp(base, CST)
    assert (at.hour, at.minute, at.second, at.microsecond) == (0, 0, 0, 0)
    assert now - 86400 - HORIZON_S - 86400 < base <= now - 86400 - HORIZON_S
