"""Webhook signatures: the receiver checks that a body came from jianguan, is fresh, and was not
seen before.

Headers: ``X-Jianguan-Timestamp`` (Unix seconds), ``X-Jianguan-Delivery`` (a random id, the same
on every retry of one delivery) and ``X-Jianguan-Signature: sha256=<hex>``, the HMAC-SHA256 under
the receiver's shared secret of ``"<timestamp>.<delivery id>." + body``. The timestamp bounds how
long a captured request stays valid (``verify``'s tolerance); within that window a receiver
rejects a delivery id it has already taken (``DeliveryGuard``), so a captured request cannot be
replayed and a retry whose first attempt did arrive is recognised.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections import OrderedDict

TIMESTAMP_HEADER = "X-Jianguan-Timestamp"
DELIVERY_HEADER = "X-Jianguan-Delivery"
SIGNATURE_HEADER = "X-Jianguan-Signature"
TOLERANCE_S = 300.0


def new_delivery_id() -> str:
    return uuid.uuid4().hex


def signature(secret: bytes, timestamp: int, delivery_id: str, body: bytes) -> str:
    signed = f"{timestamp}.{delivery_id}.".encode() + body
    return "sha256=" + hmac.new(secret, signed, hashlib.sha256).hexdigest()


def signed_headers(secret: bytes, timestamp: int, body: bytes, delivery_id: str) -> dict[str, str]:
    return {
        TIMESTAMP_HEADER: str(timestamp),
        DELIVERY_HEADER: delivery_id,
        SIGNATURE_HEADER: signature(secret, timestamp, delivery_id, body),
    }


def verify(
    secret: bytes,
    headers: dict[str, str],
    body: bytes,
    now: float,
    tolerance_s: float = TOLERANCE_S,
) -> str | None:
    """The delivery id when the signature matches and the timestamp is within ``tolerance_s``
    of ``now``; None otherwise. Header names are matched case-insensitively. A receiver still
    has to refuse a delivery id it has seen (``DeliveryGuard``)."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        ts = int(lower[TIMESTAMP_HEADER.lower()])
        delivery = lower[DELIVERY_HEADER.lower()]
        given = lower[SIGNATURE_HEADER.lower()]
    except (KeyError, ValueError):
        return None
    if not delivery or abs(now - ts) > tolerance_s:
        return None
    if not hmac.compare_digest(given, signature(secret, ts, delivery, body)):
        return None
    return delivery


class DeliveryGuard:
    """Delivery ids taken within the signature's tolerance window, for a receiver: ``first``
    is True once per id. Ids older than the window are forgotten (``verify`` refuses them by
    their timestamp anyway), so memory is bounded by the delivery rate times the window."""

    def __init__(self, tolerance_s: float = TOLERANCE_S) -> None:
        self._window = 2 * tolerance_s  # a timestamp may be early or late by the tolerance
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first(self, delivery_id: str, now: float) -> bool:
        while self._seen and now - next(iter(self._seen.values())) > self._window:
            self._seen.popitem(last=False)
        if delivery_id in self._seen:
            return False
        self._seen[delivery_id] = now
        return True
