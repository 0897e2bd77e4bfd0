"""The provider-facing contract's generated modules under short names (generated code lives in
jianguan_sdk._proto and is regenerated from protos/ by ``make protos``)."""

from __future__ import annotations

from jianguan_sdk._proto.jianguan.v1 import (
    bodies_pb2,
    envelope_pb2,
    event_pb2,
    ingest_pb2,
    ingest_pb2_grpc,
    options_pb2,
)

__all__ = [
    "bodies_pb2",
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
SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = frozenset({1})
