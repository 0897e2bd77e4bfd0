"""Builds and runs the gRPC gateway: Ingest, health, reflection, Prometheus metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from jianguan.accounts.registry_watch import RegistrySource
from jianguan.contracts import pb, topics
from jianguan.domain.dedup import RecentIds
from jianguan.domain.ratelimit import RateLimiter
from jianguan.gateway.authority import AuthorityServicer
from jianguan.gateway.fairness import DEFAULT_FAIRNESS, FairnessLimits, ProviderShares
from jianguan.gateway.otlp import TRACE_SERVICE, OtlpTraceServicer
from jianguan.gateway.servicer import IngestServicer
from jianguan.ingest.admission import Admission
from jianguan.ingest.chain_book import ChainBook
from jianguan.ingest.pipeline import IngestPipeline
from jianguan.ingest.warm_start import KnownIds, remember_known_ids
from jianguan.kafka_io.producer import EventLogProducer
from jianguan_sdk.validation import DEFAULT_LIMITS, Limits

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """Server certificate, and optionally the CA that signs provider client certificates."""

    cert: Path
    key: Path
    client_ca: Path | None = None


def _credentials(tls: TlsConfig) -> grpc.ServerCredentials:
    """TLS; with a client CA, every connection must present a certificate that CA signed
    (mTLS), whose common name identifies the provider. A bearer token may accompany it."""
    ca = tls.client_ca.read_bytes() if tls.client_ca else None
    return grpc.ssl_server_credentials(
        [(tls.key.read_bytes(), tls.cert.read_bytes())],
        root_certificates=ca,
        require_client_auth=ca is not None,
    )


def otlp_stream(host: str, port: int) -> str:
    """``otlp.<host>-<port>``, in identifier characters and at most 64 of them."""
    suffix = f"-{port}"
    name = re.sub(r"[^A-Za-z0-9._:/-]", "-", host)[: 64 - len("otlp.") - len(suffix)]
    return f"otlp.{name}{suffix}"


class Gateway:
    """A running gateway. ``port`` is the bound port (pass 0 to get a free one)."""

    def __init__(
        self,
        registry: RegistrySource,
        bootstrap: str,
        namespace: str = "",
        host: str = "127.0.0.1",
        port: int = 0,
        tls: TlsConfig | None = None,
        dedup_capacity: int = 2_000_000,
        dedup_max_bytes: int | None = None,
        limits: Limits = DEFAULT_LIMITS,
        linger_ms: int = 2,
        fairness: FairnessLimits = DEFAULT_FAIRNESS,
        replicas: int = 1,
    ) -> None:
        """``fairness``: each provider's share of this process; ``replicas``: gateway processes
        sharing the providers' traffic (each grants 1/replicas of every provider's rate)."""
        self.registry = registry
        self.dedup = RecentIds(dedup_capacity, dedup_max_bytes)
        self.producer = EventLogProducer(
            bootstrap,
            topics.topic_name(topics.EVENTS, namespace),
            topics.topic_name(topics.OUTCOMES, namespace),
            linger_ms=linger_ms,
        )
        admission = Admission(self.dedup, RateLimiter(), limits, rate_share=1 / max(1, replicas))
        self.chains = ChainBook(bootstrap, namespace)
        pipeline = IngestPipeline(admission, self.producer, path="grpc", chains=self.chains)
        self._fairness = fairness
        self.servicer = IngestServicer(registry, pipeline, ProviderShares(fairness), self.chains)
        self.otlp = OtlpTraceServicer(self.servicer, pipeline, self.chains, admission)
        self.authority = AuthorityServicer(registry, self.producer, namespace)
        self._host, self._port, self._tls = host, port, tls
        self.port = 0
        self._server: grpc.aio.Server | None = None
        self.warm_start: asyncio.Task[int] | None = None
        self._chains_start: asyncio.Task[None] | None = None

    async def start(self, known_ids: KnownIds | None = None) -> None:
        """Start serving at once. ``known_ids`` (recent ids from the event store) fills the
        duplicate memory in the background, so a restarted gateway answers DUPLICATE for them
        once the store answers, and never waits for it (``ingest.warm_start``)."""
        if known_ids is not None:
            self.warm_start = asyncio.create_task(
                remember_known_ids(self.dedup, known_ids, "gateway")
            )
        await self.producer.start()
        # Where the chains stand is read in the background: until it is, items wait (UNAVAILABLE).
        self._chains_start = asyncio.create_task(self.chains.start_when_possible())
        server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.so_reuseport", 0),
                # Calls open at once per connection (a provider's batches in flight and its
                # streams): a client opening more waits on its own side, before the gateway
                # reads or refuses anything (fairness).
                (
                    "grpc.max_concurrent_streams",
                    self._fairness.max_in_flight + self._fairness.max_streams,
                ),
            ]
        )
        handlers = {
            # Requests arrive as bytes (no deserializer) so a fully accepted batch can be
            # forwarded to the log without re-encoding.
            "Publish": grpc.stream_stream_rpc_method_handler(
                self.servicer.publish,
                request_deserializer=None,
                response_serializer=pb.BatchAck.SerializeToString,
            ),
            "PublishBatch": grpc.unary_unary_rpc_method_handler(
                self.servicer.publish_batch,
                request_deserializer=None,
                response_serializer=pb.BatchAck.SerializeToString,
            ),
            "GetChainHeads": grpc.unary_unary_rpc_method_handler(
                self.servicer.get_chain_heads,
                request_deserializer=pb.ingest_pb2.GetChainHeadsRequest.FromString,
                response_serializer=pb.ingest_pb2.GetChainHeadsResponse.SerializeToString,
            ),
            "GetSession": grpc.unary_unary_rpc_method_handler(
                self.servicer.get_session,
                request_deserializer=pb.ingest_pb2.GetSessionRequest.FromString,
                response_serializer=pb.ingest_pb2.GetSessionResponse.SerializeToString,
            ),
        }
        authority = {
            "RecordComplaint": grpc.unary_unary_rpc_method_handler(
                self.authority.record_complaint,
                request_deserializer=pb.authority_pb2.AuthorityComplaint.FromString,
                response_serializer=pb.authority_pb2.AuthorityComplaintAck.SerializeToString,
            ),
            "RecordDisposition": grpc.unary_unary_rpc_method_handler(
                self.authority.record_disposition,
                request_deserializer=pb.authority_pb2.OffshoreDisposition.FromString,
                response_serializer=pb.authority_pb2.DispositionAck.SerializeToString,
            ),
            "RecordCorrectionOrder": grpc.unary_unary_rpc_method_handler(
                self.authority.record_correction_order,
                request_deserializer=pb.authority_pb2.CorrectionOrder.FromString,
                response_serializer=pb.authority_pb2.AuthorityActionAck.SerializeToString,
            ),
            "RecordInspectionRequest": grpc.unary_unary_rpc_method_handler(
                self.authority.record_inspection_request,
                request_deserializer=pb.authority_pb2.InspectionRequest.FromString,
                response_serializer=pb.authority_pb2.AuthorityActionAck.SerializeToString,
            ),
        }
        otlp = {
            "Export": grpc.unary_unary_rpc_method_handler(
                self.otlp.export,
                request_deserializer=ExportTraceServiceRequest.FromString,
                response_serializer=ExportTraceServiceResponse.SerializeToString,
            ),
        }
        server.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(pb.INGEST_SERVICE, handlers),
                grpc.method_handlers_generic_handler(pb.AUTHORITY_SERVICE, authority),
                grpc.method_handlers_generic_handler(TRACE_SERVICE, otlp),
            )
        )
        health_servicer = health.HealthServicer(experimental_non_blocking=True)
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        reflection.enable_server_reflection(
            (
                pb.INGEST_SERVICE,
                pb.AUTHORITY_SERVICE,
                TRACE_SERVICE,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            server,
        )
        address = f"{self._host}:{self._port}"
        if self._tls is not None:
            self.port = server.add_secure_port(address, _credentials(self._tls))
        else:
            self.port = server.add_insecure_port(address)
        # The chains this process seals for OTLP exports: its own stream, the same across its
        # restarts on the same host and port.
        self.otlp.stream_id = otlp_stream(socket.gethostname(), self.port)
        await server.start()
        for name in ("", pb.INGEST_SERVICE):
            health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
        self._server = server
        log.info("gateway listening on %s:%d", self._host, self.port)

    async def stop(self, grace: float = 5.0) -> None:
        """Stop taking calls, let in-flight batches finish (up to ``grace`` s), then close the
        producer so every acknowledged item is on the broker."""
        if self.warm_start is not None:
            self.warm_start.cancel()
        if self._server is not None:
            await self._server.stop(grace)
            self._server = None
        self.servicer.shares.close()
        if self._chains_start is not None:
            self._chains_start.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._chains_start
        await self.chains.stop()
        await self.producer.stop()

    async def wait(self) -> None:
        if self._server is not None:
            await self._server.wait_for_termination()
