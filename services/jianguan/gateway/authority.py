"""AuthorityIntakeService: regulators record complaints users made to them (Art. 18), the
disposition of offshore services (Art. 20), supervisory inspections (Art. 19) and orders to correct
(Art. 21). Every record is appended to the log only after it was checked whole; its author is the
authority the credential names, never a field of the payload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from jianguan.accounts.registry import Authority
from jianguan.accounts.registry_watch import RegistrySource
from jianguan.contracts import pb, topics
from jianguan.contracts.observed import DEMAND_FIELDS, citation
from jianguan.gateway.credentials import bearer_token
from jianguan.kafka_io.producer import EventLogProducer
from jianguan_sdk.validation import validate_message

A = pb.authority_pb2
# (field path, reason) of what is wrong with a record; None: nothing.
Problem = tuple[str, str] | None


class AuthorityServicer:
    def __init__(
        self, registry: RegistrySource, producer: EventLogProducer, namespace: str
    ) -> None:
        self._registry = registry
        self._producer = producer
        self._complaints = topics.topic_name(topics.AUTHORITY_COMPLAINTS, namespace)
        self._dispositions = topics.topic_name(topics.OFFSHORE_DISPOSITIONS, namespace)
        self._actions = topics.topic_name(topics.AUTHORITY_ACTIONS, namespace)

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

    async def record_correction_order(self, request: Any, context: Any) -> Any:
        return await self._record(context, "correction_order", request, _citations_problem)

    async def record_inspection_request(self, request: Any, context: Any) -> Any:
        return await self._record(context, "inspection_request", request, _topics_problem)

    async def _record(
        self, context: Any, kind: str, request: Any, own: Callable[[Any], Problem]
    ) -> Any:
        """A demand of ``kind`` appended to the log once it is whole: the contract's field
        rules, a registered provider, a deadline after its issue, and what ``own`` checks of
        its kind; else the first problem in its acknowledgement."""
        authority = await self._identify(context)
        ref_field, due_field = DEMAND_FIELDS[kind]
        ack = A.AuthorityActionAck(ref=getattr(request, ref_field))
        problem = self._demand_problem(request, due_field) or own(request)
        if problem is not None:
            ack.field_path, ack.reason = problem
            return ack
        action = A.AuthorityAction()
        getattr(action, kind).CopyFrom(request)
        value = action.SerializeToString()
        await self._append(context, authority, self._actions, request.provider_id, value)
        ack.recorded = True
        return ack

    def _demand_problem(self, request: Any, due_field: str) -> Problem:
        found = validate_message(request)
        if found is not None:
            return found.path, found.reason
        if self._registry.current().get(request.provider_id) is None:
            return "provider_id", f"no provider {request.provider_id!r} is registered"
        due = getattr(request, due_field)
        if due.ToNanoseconds() <= request.issued_at.ToNanoseconds():
            return due_field, "must be after issued_at"
        return None


def _citations_problem(order: Any) -> Problem:
    """An order cites at least one provision, each a place the Measures have."""
    if not order.cited:
        return "cited", "an order cites at least one provision it enforces"
    for i, cited in enumerate(order.cited):
        place = citation(cited)
        try:
            place.text()
        except (KeyError, IndexError, ValueError):  # no such place (an item needs its paragraph)
            return f"cited[{i}]", f"the Measures have no {place.ref}"
    return None


def _topics_problem(request: Any) -> Problem:
    if not request.topics:
        return "topics", "a request asks about at least one topic"
    return None
