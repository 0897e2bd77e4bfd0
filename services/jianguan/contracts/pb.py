"""The generated protobuf modules under short names: the provider-facing contract's from the SDK
(jianguan_sdk._proto), the platform's own from jianguan._proto."""

from jianguan._proto.jianguan.v1 import (
    authority_pb2,
    authority_pb2_grpc,
    cases_pb2,
    chains_pb2,
    dead_letters_pb2,
)
from jianguan_sdk.pb import (
    INGEST_SERVICE,
    SCHEMA_VERSION,
    SUPPORTED_SCHEMA_VERSIONS,
    BatchAck,
    Envelope,
    Event,
    EventBatch,
    ItemResult,
    ItemStatus,
    bodies_pb2,
    envelope_pb2,
    event_pb2,
    ingest_pb2,
    ingest_pb2_grpc,
    options_pb2,
)

__all__ = [
    "INGEST_SERVICE",
    "SCHEMA_VERSION",
    "SUPPORTED_SCHEMA_VERSIONS",
    "BatchAck",
    "Envelope",
    "Event",
    "EventBatch",
    "ItemResult",
    "ItemStatus",
    "authority_pb2",
    "authority_pb2_grpc",
    "bodies_pb2",
    "cases_pb2",
    "chains_pb2",
    "dead_letters_pb2",
    "envelope_pb2",
    "event_pb2",
    "ingest_pb2",
    "ingest_pb2_grpc",
    "options_pb2",
]

AUTHORITY_SERVICE = "jianguan.v1.AuthorityIntakeService"

# Body kinds in the order of their oneof field numbers (10..18); the number is the kind code
# stored in ClickHouse.
BODY_KINDS: dict[str, int] = {
    f.name: f.number for f in event_pb2.Event.DESCRIPTOR.oneofs_by_name["body"].fields
}
