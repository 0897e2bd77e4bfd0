"""An authority's side of a history: its records (complaints made to it, orders to correct,
inspection requests) made through AuthorityIntakeService with the authority's own token, as a
regulator's system would."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import grpc

from jianguan.contracts import pb

A = pb.authority_pb2
_METHODS = {
    "correction_order": "RecordCorrectionOrder",
    "inspection_request": "RecordInspectionRequest",
}


async def record_actions(
    target: str,
    token: str,
    actions: Iterable[pb.authority_pb2.AuthorityAction | pb.authority_pb2.AuthorityComplaint],
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
