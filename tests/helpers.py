"""Event builders shared by the tests."""

from __future__ import annotations

import time

from jianguan.contracts import pb
from jianguan.contracts.chain import Chain


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


def chained(prefix: str, n: int, service: str = "svc-chat") -> list[pb.event_pb2.Event]:
    chain = Chain(service)
    return [chain.seal(generation(f"{prefix}-{i}", service=service)) for i in range(n)]
