"""Reading the caller's credential from a gRPC call: one parser for every service."""

from __future__ import annotations

from typing import Any

MALFORMED = ""


def bearer_token(context: Any) -> str | None:
    """The token of an ``authorization: Bearer <token>`` header; None when there is no such
    header, MALFORMED ("") when the header is there but is not a bearer token."""
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            scheme, _, token = str(value).partition(" ")
            return token.strip() if scheme.lower() == "bearer" else MALFORMED
    return None
