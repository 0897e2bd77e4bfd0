"""Webhook signatures: the receiver checks that a body came from jianguan and is fresh.

Headers: ``X-Jianguan-Timestamp`` (Unix seconds) and ``X-Jianguan-Signature: sha256=<hex>``,
the HMAC-SHA256 under the receiver's shared secret of ``"<timestamp>." + body``. Signing the
timestamp with the body stops a captured request from being replayed later.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Jianguan-Timestamp"
SIGNATURE_HEADER = "X-Jianguan-Signature"


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: bytes, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(
    secret: bytes, headers: dict[str, str], body: bytes, now: float, tolerance_s: float = 300
) -> bool:
    """True when the signature matches and the timestamp is within ``tolerance_s`` of ``now``.
    Header names are matched case-insensitively."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        ts = int(lower[TIMESTAMP_HEADER.lower()])
        given = lower[SIGNATURE_HEADER.lower()]
    except (KeyError, ValueError):
        return False
    if abs(now - ts) > tolerance_s:
        return False
    return hmac.compare_digest(given, signature(secret, ts, body))
