"""The generated protobuf modules under short names. Generated code lives in jianguan._proto."""

from jianguan._proto.jianguan.v1 import (
    authority_pb2,
    authority_pb2_grpc,
    bodies_pb2,
    cases_pb2,
    dead_letters_pb2,
    envelope_pb2,
    event_pb2,
    ingest_pb2,
    ingest_pb2_grpc,
    options_pb2,
)

__all__ = [
    "authority_pb2",
    "authority_pb2_grpc",
    "bodies_pb2",
    "cases_pb2",
    "dead_letters_pb2",
    "envelope_pb2",
    "event_pb2",
    "ingest_pb2",
    "ingest_pb2_grpc",
    "options_pb2",
]

Event = event_pb2.Event
Envelope = envelope_pb2.Envelope
EventBatch = ingest_pb2.EventBatch
BatchAck = ingest_pb2.BatchAck
ItemResult = ingest_pb2.ItemResult
ItemStatus = ingest_pb2.ItemStatus

INGEST_SERVICE = "jianguan.v1.IngestService"
AUTHORITY_SERVICE = "jianguan.v1.AuthorityIntakeService"
SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = frozenset({1})

# Body kinds in the order of their oneof field numbers (10..18); the number is the kind code
# stored in ClickHouse.
BODY_KINDS: dict[str, int] = {
    f.name: f.number for f in event_pb2.Event.DESCRIPTOR.oneofs_by_name["body"].fields
}
