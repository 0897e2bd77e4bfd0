"""The hash chain that makes a provider's reporting tamper-evident: one per (provider, service,
stream); docs/chain.md specifies its bytes for implementations in other languages."""

from __future__ import annotations

import hashlib

from jianguan_sdk import pb


def canonical_bytes(event: pb.event_pb2.Event) -> bytes:
    """The event's canonical encoding (docs/chain.md): the protobuf encoding with fields in
    field-number order and zero values left out, envelope.provider_id empty (the provider cannot
    know how the platform fills it in)."""
    if event.envelope.provider_id:
        event = pb.Event.FromString(event.SerializeToString())
        event.envelope.provider_id = ""
    return event.SerializeToString(deterministic=True)


def event_hash(event: pb.event_pb2.Event) -> bytes:
    """SHA-256 of the event's canonical encoding: the next event's ``prev_hash``."""
    return hashlib.sha256(canonical_bytes(event)).digest()


class Chain:
    """Seals events of one service's stream: sequence numbers from 1 without gaps, each linked
    to the previous event's hash. Not thread-safe; one chain per (service, stream)."""

    def __init__(
        self, service_id: str, sequence: int = 0, last_hash: bytes = b"", stream_id: str = ""
    ) -> None:
        self.service_id = service_id
        self.stream_id = stream_id
        self.sequence = sequence
        self.last_hash = last_hash

    def seal(self, event: pb.event_pb2.Event) -> pb.event_pb2.Event:
        env = event.envelope
        env.service_id = self.service_id
        env.stream_id = self.stream_id
        self.sequence += 1
        env.sequence = self.sequence
        env.prev_hash = self.last_hash
        env.schema_version = pb.SCHEMA_VERSION
        self.last_hash = event_hash(event)
        return event
