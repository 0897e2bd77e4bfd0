"""Event builders and waits shared by the tests."""

from __future__ import annotations

import time
from collections.abc import Callable

from jianguan.contracts import pb
from jianguan_sdk.chain import Chain


def generation(
    event_id: str, now: float | None = None, service: str = "svc-chat"
) -> pb.event_pb2.Event:
    ev = pb.Event()
    env = ev.envelope
    env.event_id = event_id
    env.service_id = service
    env.occurred_at.seconds = int(now if now is not None else time.time())
    env.sequence = 1
    env.schema_version = 1
    g = ev.generation
    g.operation_name = pb.bodies_pb2.GEN_AI_OPERATION_CHAT
    g.request_model = "model-x"
    g.output_type = pb.bodies_pb2.OUTPUT_MODALITY_TEXT
    g.explicit_label = True  # as Art. 12 asks of a chat answer
    g.user_ref = "u_3f2a9c"
    return ev


def labeled_file(
    event_id: str,
    produce_id: str,
    now: float | None = None,
    service: str = "svc-chat",
    modality: int = pb.bodies_pb2.OUTPUT_MODALITY_IMAGE,
) -> pb.event_pb2.Event:
    """A generated file labeled as Art. 12 asks: the explicit label, and the implicit one of
    GB 45438-2025 saying "generated", naming acme-ai and carrying ``produce_id``."""
    ev = generation(event_id, now=now, service=service)
    g = ev.generation
    g.output_type = modality
    g.implicit_label.label = pb.bodies_pb2.AIGC_LABEL_GENERATED
    g.implicit_label.content_producer = "acme-ai"
    g.implicit_label.produce_id = produce_id
    return ev


def chained(
    prefix: str, n: int, service: str = "svc-chat", stream: str | None = None
) -> list[pb.event_pb2.Event]:
    """``n`` events sealed into a new chain: of ``stream`` (by default one named ``prefix``, so
    that every call is a chain of its own and the gateway takes each from sequence 1)."""
    chain = Chain(service, stream_id=prefix if stream is None else stream)
    return [chain.seal(generation(f"{prefix}-{i}", service=service)) for i in range(n)]


def eventually(
    check: Callable[[], bool], timeout_s: float = 15.0, poll_s: float = 0.1, what: str = ""
) -> None:
    """Waits until ``check()`` holds; fails the test (saying ``what`` did not happen) when it
    does not within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, what or f"not within {timeout_s:g} s"
        time.sleep(poll_s)
