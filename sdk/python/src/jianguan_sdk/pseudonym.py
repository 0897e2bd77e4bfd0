"""Pseudonymous user references (Art. 11): raw user ids never leave the provider.

A reference is the HMAC-SHA256 of the user id under a key only the provider holds, so the
platform can count and follow one user (Art. 14 ¶2 tallies, complaints) without learning who
it is, and nobody without the key can test a guessed id against it.
"""

from __future__ import annotations

import hashlib
import hmac


class Pseudonymizer:
    """Use one key per provider, kept secret and stable (rotating it starts new references)."""

    def __init__(self, key: bytes, prefix: str = "u_") -> None:
        if len(key) < 32:
            raise ValueError("use a key of at least 32 random bytes (e.g. secrets.token_bytes(32))")
        self._key = key
        self._prefix = prefix

    def ref(self, user_id: str) -> str:
        """The stable pseudonymous reference of ``user_id`` (128 bits of the HMAC, hex)."""
        digest = hmac.new(self._key, user_id.encode(), hashlib.sha256).hexdigest()
        return self._prefix + digest[:32]
