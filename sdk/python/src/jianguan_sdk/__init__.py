"""jianguan's provider SDK: report a generative-AI service's telemetry to the supervision platform.

``Reporter`` (blocking) and ``AsyncReporter`` check each event against the contract, seal it into
its service's hash chain, spool it on disk and deliver it with retries; ``IngestClient`` and
``SyncIngestClient`` publish batches directly. ``builders`` makes events of every kind and
``Pseudonymizer`` turns user ids into references the platform can follow but not read (Art. 11).
Publishing through a provider's own Kafka topic is ``jianguan_sdk.kafka_client`` (the ``kafka``
extra); reporting OpenTelemetry GenAI spans, ``jianguan_sdk.otel`` (the ``otel`` extra). Depends
only on grpcio and protobuf.
"""

from __future__ import annotations

from jianguan_sdk import builders
from jianguan_sdk.chain import Chain, event_hash
from jianguan_sdk.client import BatchPublisher, IngestClient, TlsClientConfig
from jianguan_sdk.errors import AuthenticationFailed, ReporterStopped
from jianguan_sdk.outcome import InvalidEvent, Outcome
from jianguan_sdk.pseudonym import Pseudonymizer
from jianguan_sdk.reporter import AsyncReporter
from jianguan_sdk.retry import Delivery, publish_reliably
from jianguan_sdk.sync import Reporter, SyncIngestClient

__all__ = [
    "AsyncReporter",
    "AuthenticationFailed",
    "BatchPublisher",
    "Chain",
    "Delivery",
    "IngestClient",
    "InvalidEvent",
    "Outcome",
    "Pseudonymizer",
    "Reporter",
    "ReporterStopped",
    "SyncIngestClient",
    "TlsClientConfig",
    "builders",
    "event_hash",
    "publish_reliably",
]
