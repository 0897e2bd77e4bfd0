"""An authority's side of a history: its records (complaints made to it, orders to correct,
inspection requests) made through AuthorityIntakeService with the authority's own token, as a
regulator's system would."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from typing import Any

import grpc

from jianguan.contracts import pb
from jianguan.contracts.observed import AuthorityRecord
from jianguan_sdk.retry import backoff_s

A = pb.authority_pb2
_METHODS = {
    "correction_order": "RecordCorrectionOrder",
    "inspection_request": "RecordInspectionRequest",
}


async def record_reliably(
    target: str,
    token: str,
    record: AuthorityRecord,
    attempts: int = 20,
) -> Any:
    """Records one complaint or demand, again while the platform cannot take it yet
    (UNAVAILABLE: its event log is down, or the gateway is restarting), with backoff. A record
    is keyed by its reference (and revision): one taken twice is read once by the rules and by
    the store's FINAL views."""
    for attempt in range(1, attempts + 1):
        try:
            (ack,) = await record_actions(target, token, [record])
            return ack
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNAVAILABLE or attempt == attempts:
                raise
            await asyncio.sleep(backoff_s(attempt, 0.5, 5.0, random.random))
    raise AssertionError("unreachable")


async def record_actions(
    target: str,
    token: str,
    actions: Iterable[AuthorityRecord],
) -> list[Any]:
    """Records each complaint or demand in order; one acknowledgement each (``recorded``, or
    why not)."""
    out = []
    auth = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb.authority_pb2_grpc.AuthorityIntakeServiceStub(channel)
        for action in actions:
            if isinstance(action, A.AuthorityComplaint):
                out.append(await stub.RecordComplaint(action, metadata=auth))
                continue
            kind = action.WhichOneof("action")
            if kind is None:
                raise ValueError("an AuthorityAction with no action")
            call = getattr(stub, _METHODS[kind])
            out.append(await call(getattr(action, kind), metadata=auth))
    return out
