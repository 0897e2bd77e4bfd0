"""The per-(provider, service) hash chain that makes a provider's stream tamper-evident."""

from __future__ import annotations

import hashlib

from jianguan_sdk import pb


def event_hash(event: pb.event_pb2.Event) -> bytes:
    """SHA-256 of the event's deterministic encoding with envelope.provider_id empty (the provider
    cannot know how the platform fills it in)."""
    if event.envelope.provider_id:
        event = pb.Event.FromString(event.SerializeToString())
        event.envelope.provider_id = ""
    return hashlib.sha256(event.SerializeToString(deterministic=True)).digest()


class Chain:
    """Seals events of one service: sequence numbers from 1 without gaps, each linked to the
    previous event's hash. Not thread-safe; one chain per service."""

    def __init__(self, service_id: str, sequence: int = 0, last_hash: bytes = b"") -> None:
        self.service_id = service_id
        self.sequence = sequence
        self.last_hash = last_hash

    def seal(self, event: pb.event_pb2.Event) -> pb.event_pb2.Event:
        env = event.envelope
        env.service_id = self.service_id
        self.sequence += 1
        env.sequence = self.sequence
        env.prev_hash = self.last_hash
        env.schema_version = pb.SCHEMA_VERSION
        self.last_hash = event_hash(event)
        return event
