"""Events for the SDK's tests, made with the SDK's own builders."""

from __future__ import annotations

from jianguan_sdk import builders, pb


def generation(
    event_id: str, now: float | None = None, service: str = "svc-chat"
) -> pb.event_pb2.Event:
    """A labeled chat answer with the envelope a reporter would seal (sequence 1)."""
    ev = builders.generation(
        request_model="model-x",
        explicit_label=True,  # as Art. 12 asks of a chat answer
        user_ref="u_3f2a9c",
        event_id=event_id,
        occurred_at=None if now is None else float(int(now)),
    )
    ev.envelope.service_id = service
    ev.envelope.sequence = 1
    ev.envelope.schema_version = pb.SCHEMA_VERSION
    return ev
