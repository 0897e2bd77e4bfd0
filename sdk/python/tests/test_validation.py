import time

import pytest

from events import generation
from jianguan_sdk import pb
from jianguan_sdk.validation import INVALID, PERSONAL_INFORMATION, Limits, validate

NOW = 1_800_000_000.0


def test_valid_generation_passes() -> None:
    assert validate(generation("e1", NOW), NOW) is None


@pytest.mark.parametrize(
    ("mutate", "path", "status"),
    [
        (lambda e: setattr(e.envelope, "event_id", ""), "envelope.event_id", INVALID),
        (lambda e: setattr(e.envelope, "event_id", "has space"), "envelope.event_id", INVALID),
        (lambda e: setattr(e.envelope, "event_id", "x" * 129), "envelope.event_id", INVALID),
        (lambda e: setattr(e.envelope, "service_id", ""), "envelope.service_id", INVALID),
        (lambda e: e.envelope.ClearField("occurred_at"), "envelope.occurred_at", INVALID),
        (lambda e: setattr(e.envelope, "sequence", 0), "envelope.sequence", INVALID),
        (lambda e: setattr(e.envelope, "schema_version", 9), "envelope.schema_version", INVALID),
        (lambda e: setattr(e.generation, "output_type", 99), "generation.output_type", INVALID),
        (
            lambda e: setattr(e.generation, "operation_name", 0),
            "generation.operation_name",
            INVALID,
        ),
        (lambda e: e.generation.finish_reasons.append(42), "generation.finish_reasons[0]", INVALID),
        (lambda e: setattr(e.generation, "request_model", ""), "generation.request_model", INVALID),
        (
            lambda e: setattr(e.generation, "user_ref", "zhang@example.com"),
            "generation.user_ref",
            PERSONAL_INFORMATION,
        ),
    ],
)
def test_each_problem_names_its_field(mutate, path: str, status: int) -> None:  # type: ignore[no-untyped-def]
    ev = generation("e1", NOW)
    mutate(ev)
    problem = validate(ev, NOW)
    assert problem is not None
    assert problem.path == path
    assert problem.status == status
    assert problem.reason


def test_body_is_required() -> None:
    ev = generation("e1", NOW)
    ev.ClearField("generation")
    problem = validate(ev, NOW)
    assert problem is not None
    assert problem.path == "body"


def test_timestamps_future_and_age() -> None:
    limits = Limits(max_future_skew_s=300, max_age_s=86400)
    assert validate(generation("e", NOW + 299), NOW, limits) is None
    future = validate(generation("e", NOW + 301), NOW, limits)
    assert future is not None
    assert future.path == "envelope.occurred_at"
    old = validate(generation("e", NOW - 86401), NOW, limits)
    assert old is not None
    assert "days old" in old.reason


def test_hash_chain_shape() -> None:
    ev = generation("e", NOW)
    ev.envelope.sequence = 2
    problem = validate(ev, NOW)
    assert problem is not None
    assert problem.path == "envelope.prev_hash"
    ev.envelope.prev_hash = b"\x01" * 32
    assert validate(ev, NOW) is None


def test_free_text_in_complaint_is_scanned() -> None:
    ev = generation("e", NOW)
    c = ev.complaint
    c.complaint_id = "c-1"
    c.status = pb.bodies_pb2.COMPLAINT_STATUS_RECEIVED
    c.channel = pb.bodies_pb2.COMPLAINT_CHANNEL_PHONE
    c.category = pb.bodies_pb2.COMPLAINT_CATEGORY_OTHER
    c.summary = "用户来电 13900001111 投诉"
    problem = validate(ev, NOW)
    assert problem is not None
    assert (problem.path, problem.status) == ("complaint.summary", PERSONAL_INFORMATION)
    assert "13900001111" not in problem.reason


def test_moderation_confidence_range() -> None:
    ev = generation("e", NOW)
    m = ev.moderation
    m.stage, m.risk_category, m.action = 2, 8, 3
    m.confidence = 1.5
    problem = validate(ev, NOW)
    assert problem is not None
    assert problem.path == "moderation.confidence"


def test_labeling_defects_are_not_ingest_errors() -> None:
    """An unlabeled image is evidence for Art. 12, so it must be accepted and stored."""
    ev = generation("e", NOW)
    ev.generation.output_type = pb.bodies_pb2.OUTPUT_MODALITY_IMAGE
    ev.generation.implicit_label.produce_id = "000000"
    assert validate(ev, NOW) is None


def test_oversized_event() -> None:
    ev = generation("e", time.time())
    ev.user_enforcement.action = 1
    ev.user_enforcement.user_ref = "u_1"
    ev.user_enforcement.reason_event_ids.extend(f"id-{i}" for i in range(5000))
    problem = validate(ev, time.time(), Limits(max_event_bytes=1024))
    assert problem is not None
    assert "limit is 1024" in problem.reason
