from jianguan.contracts import pb
from jianguan.contracts.observed import observed
from tests.helpers import generation


def test_moderation_as_the_rules_see_it() -> None:
    ev = generation("m1", now=1_780_000_000)
    ev.envelope.occurred_at.nanos = 500_000_000
    m = ev.moderation
    m.stage = pb.bodies_pb2.MODERATION_STAGE_OUTPUT
    m.risk_category = pb.bodies_pb2.RISK_CATEGORY_PORNOGRAPHY
    m.action = pb.bodies_pb2.MODERATION_ACTION_STOP_TRANSMISSION
    m.disposes_event_id = "m0"
    obs = observed(ev, "acme")
    assert obs is not None
    assert (obs.provider_id, obs.service_id, obs.event_id, obs.kind) == (
        "acme", "svc-chat", "m1", "moderation",
    )  # fmt: skip
    assert obs.at == 1_780_000_000.5
    assert obs.body == {
        "stage": "OUTPUT",
        "risk_category": "PORNOGRAPHY",
        "action": "STOP_TRANSMISSION",
        "disposes_event_id": "m0",
    }


def test_repeated_and_nested_fields() -> None:
    ev = generation("g1")
    ev.generation.finish_reasons.extend([1, 3])
    ev.generation.implicit_label.label = pb.bodies_pb2.AIGC_LABEL_GENERATED
    obs = observed(ev, "acme")
    assert obs is not None
    assert obs.get("finish_reasons") == ("STOP", "CONTENT_FILTER")
    assert obs.get("implicit_label") == {"label": "GENERATED"}
    assert obs.get("operation_name") == "CHAT"
