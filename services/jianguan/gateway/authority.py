"""AuthorityIntakeService: regulators record complaints users made to them (Art. 18)."""

from __future__ import annotations

import grpc

from jianguan.contracts import pb, topics
from jianguan.contracts.validation import validate_message
from jianguan.ingest.event_log import EventLogProducer
from jianguan.ingest.registry import ProviderRegistry

Context = grpc.aio.ServicerContext[
    pb.authority_pb2.AuthorityComplaint, pb.authority_pb2.AuthorityComplaintAck
]


class AuthorityServicer:
    def __init__(self, registry: ProviderRegistry, producer: EventLogProducer, topic: str) -> None:
        self._registry = registry
        self._producer = producer
        self._topic = topic

    async def record_complaint(
        self, request: pb.authority_pb2.AuthorityComplaint, context: Context
    ) -> pb.authority_pb2.AuthorityComplaintAck:
        token = ""
        for key, value in context.invocation_metadata() or ():
            if key == "authorization":
                scheme, _, token = str(value).partition(" ")
                token = token.strip() if scheme.lower() == "bearer" else ""
        authority = self._registry.authority_by_token(token) if token else None
        if authority is None:
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED, "an authority account's bearer token is required"
            )
        assert authority is not None
        ack = pb.authority_pb2.AuthorityComplaintAck(authority_ref=request.authority_ref)
        problem = validate_message(request)
        if problem is not None:
            ack.field_path, ack.reason = problem.path, problem.reason
            return ack
        if self._registry.get(request.provider_id) is None:
            ack.field_path = "provider_id"
            ack.reason = f"no provider {request.provider_id!r} is registered"
            return ack
        headers = [(topics.HEADER_AUTHORITY, authority.id.encode())]
        stored = await self._producer.send(
            self._topic, request.provider_id.encode(), request.SerializeToString(), headers
        )
        if not stored:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the event log did not take it; retry")
        ack.recorded = True
        return ack
