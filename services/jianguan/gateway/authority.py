"""AuthorityIntakeService: regulators record complaints users made to them (Art. 18) and the
disposition of offshore services (Art. 20)."""

from __future__ import annotations

from typing import Any

import grpc

from jianguan.accounts.registry import Authority
from jianguan.accounts.registry_watch import RegistrySource
from jianguan.contracts import pb, topics
from jianguan.gateway.credentials import bearer_token
from jianguan.kafka_io.producer import EventLogProducer
from jianguan_sdk.validation import validate_message

A = pb.authority_pb2


class AuthorityServicer:
    def __init__(
        self, registry: RegistrySource, producer: EventLogProducer, namespace: str
    ) -> None:
        self._registry = registry
        self._producer = producer
        self._complaints = topics.topic_name(topics.AUTHORITY_COMPLAINTS, namespace)
        self._dispositions = topics.topic_name(topics.OFFSHORE_DISPOSITIONS, namespace)

    async def _identify(self, context: Any) -> Authority:
        """An authority account, from its bearer token; provider tokens never open this door."""
        token = bearer_token(context)
        authority = self._registry.current().authority_by_token(token) if token else None
        if authority is None:
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED, "an authority account's bearer token is required"
            )
        assert authority is not None
        return authority

    async def _append(
        self, context: Any, authority: Authority, topic: str, key: str, value: bytes
    ) -> None:
        headers = [(topics.HEADER_AUTHORITY, authority.id.encode())]
        if not await self._producer.send(topic, key.encode(), value, headers):
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the event log did not take it; retry")

    async def record_complaint(self, request: Any, context: Any) -> Any:
        authority = await self._identify(context)
        ack = A.AuthorityComplaintAck(authority_ref=request.authority_ref)
        problem = validate_message(request)
        if problem is not None:
            ack.field_path, ack.reason = problem.path, problem.reason
            return ack
        if self._registry.current().get(request.provider_id) is None:
            ack.field_path = "provider_id"
            ack.reason = f"no provider {request.provider_id!r} is registered"
            return ack
        if request.HasField("forwarded_at") and (
            request.forwarded_at.ToNanoseconds() < request.received_at.ToNanoseconds()
        ):
            ack.field_path = "forwarded_at"
            ack.reason = "forwarded before the authority received it (received_at)"
            return ack
        await self._append(
            context, authority, self._complaints, request.provider_id, request.SerializeToString()
        )
        ack.recorded = True
        return ack

    async def record_disposition(self, request: Any, context: Any) -> Any:
        authority = await self._identify(context)
        ack = A.DispositionAck(target=request.target)
        problem = validate_message(request)
        if problem is not None:
            ack.field_path, ack.reason = problem.path, problem.reason
            return ack
        await self._append(
            context, authority, self._dispositions, request.target, request.SerializeToString()
        )
        ack.recorded = True
        return ack
