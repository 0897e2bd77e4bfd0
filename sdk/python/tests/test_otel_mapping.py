"""OpenTelemetry GenAI spans as Generation events: every mapped attribute, the labels, users
kept pseudonymous, and what is refused."""

from __future__ import annotations

import secrets

import pytest

from jianguan_sdk import pb
from jianguan_sdk.otel_mapping import SpanNotReported, SpanView, generation_of, is_generation
from jianguan_sdk.pseudonym import Pseudonymizer
from jianguan_sdk.validation import validate

B = pb.bodies_pb2
END = 1_796_000_000_500_000_000  # ns
TRACE, SPAN = 0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7


def span(**attributes: object) -> SpanView:
    base = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "acme-chat-3"}
    return SpanView("chat acme-chat-3", {**base, **attributes}, END - 820_000_000, END, TRACE, SPAN)


def test_a_chat_span_is_a_generation_with_its_trace() -> None:
    ev = generation_of(
        span(
            **{
                "gen_ai.response.model": "acme-chat-3-0312",
                "gen_ai.usage.input_tokens": 1200,
                "gen_ai.usage.output_tokens": 345,
                "gen_ai.output.type": "text",
                "gen_ai.response.finish_reasons": ("stop", "length"),
                "jianguan.explicit_label": True,
                "jianguan.user_ref": "u_3f2a9c0d",
            }
        )
    )
    g = ev.generation
    assert ev.envelope.event_id == f"otel-{TRACE:032x}-{SPAN:016x}"
    assert (g.trace_id, g.span_id) == ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    assert ev.envelope.occurred_at.ToNanoseconds() == END
    assert g.operation_name == B.GEN_AI_OPERATION_CHAT
    assert (g.request_model, g.response_model) == ("acme-chat-3", "acme-chat-3-0312")
    assert (g.input_tokens, g.output_tokens, g.latency_ms) == (1200, 345, 820)
    assert g.output_type == B.OUTPUT_MODALITY_TEXT
    assert list(g.finish_reasons) == [B.FINISH_REASON_STOP, B.FINISH_REASON_LENGTH]
    assert (g.explicit_label, g.user_ref) == (True, "u_3f2a9c0d")
    ev.envelope.service_id, ev.envelope.sequence, ev.envelope.schema_version = "chat", 1, 1
    assert validate(ev, END / 1e9) is None  # what the gateway will take


def test_an_image_carries_its_labels_and_speech_is_audio() -> None:
    ev = generation_of(
        span(
            **{
                "gen_ai.output.type": "image",
                "jianguan.explicit_label": True,
                "jianguan.implicit_label": "generated",
                "jianguan.content_producer": "acme-ai",
                "jianguan.produce_id": "img-000123",
                "jianguan.minor_mode": True,
            }
        )
    )
    label = ev.generation.implicit_label
    assert ev.generation.output_type == B.OUTPUT_MODALITY_IMAGE
    assert (label.label, label.content_producer, label.produce_id) == (
        B.AIGC_LABEL_GENERATED,
        "acme-ai",
        "img-000123",
    )
    assert ev.generation.minor_mode
    speech = generation_of(span(**{"gen_ai.output.type": "speech"}))
    assert speech.generation.output_type == B.OUTPUT_MODALITY_AUDIO
    video = generation_of(span(**{"jianguan.output.type": "video"}))
    assert video.generation.output_type == B.OUTPUT_MODALITY_VIDEO


def test_a_raw_user_id_never_leaves_the_provider() -> None:
    with pytest.raises(SpanNotReported, match=r"enduser\.id is a raw user id"):
        generation_of(span(**{"enduser.id": "13800138000"}))
    key = secrets.token_bytes(32)
    ev = generation_of(span(**{"enduser.id": "13800138000"}), Pseudonymizer(key))
    assert ev.generation.user_ref == Pseudonymizer(key).ref("13800138000")
    assert "13800138000" not in ev.SerializeToString().decode("utf-8", "replace")


def test_what_is_not_a_generation_or_cannot_be_one() -> None:
    assert not is_generation(SpanView("GET /", {"http.method": "GET"}, 0, 1, 1, 1))
    assert not is_generation(SpanView("x", {"gen_ai.operation.name": "chat"}, 0, 1, 1, 1))
    with pytest.raises(SpanNotReported, match=r"gen_ai\.operation\.name 'rerank'"):
        generation_of(span(**{"gen_ai.operation.name": "rerank"}))
    with pytest.raises(SpanNotReported, match="the output type 'hologram'"):
        generation_of(span(**{"gen_ai.output.type": "hologram"}))
    with pytest.raises(SpanNotReported, match="finish_reasons \\['timeout'\\]"):
        generation_of(span(**{"gen_ai.response.finish_reasons": ["stop", "timeout"]}))


def test_a_span_exported_twice_is_the_same_event() -> None:
    once, again = generation_of(span()), generation_of(span())
    assert once.SerializeToString() == again.SerializeToString()  # the id and times are the span's
