"""Art. 12, the ProduceID ledger: which ProduceIDs name more than one output of a provider, over
all history, at a cost per id taken in (GB 45438-2025 asks the implicit label's ProduceID to
identify the content, unique to the provider).

Looking each new id up in the event store costs a granule read per id, and once a round's ids
outnumber the table's granules every round reads the whole table (``docs/capacity.md``). A
ledger keyed by provider and id answers the same question with one read per id: it holds, per
id, the first output seen with it, or ``REUSED`` once a second, different output came. Fed in
any order, and any row any number of times, it marks the same ids: an id is marked once two
distinct outputs were seen with it, whichever came first.

The ledger only finds candidates; the alert's figures (how many outputs, which) are read from
the event store for those ids alone, so they count every output, however the ledger was fed.

Contract: ``take`` is given (provider id, ProduceID, event id) rows; the ledger is any mutable
mapping of bytes (a dict in replay and tests, a RocksDB database live).
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping

REUSED = b"\x00"  # no event id is empty: the contract refuses an event without one
_SEP = "\x00"  # cannot occur in a provider id or a valid ProduceID


def ledger_key(provider_id: str, produce_id: str) -> bytes:
    return f"{provider_id}{_SEP}{produce_id}".encode()


def pair_of(key: bytes) -> tuple[str, str]:
    """(provider id, ProduceID) of a ``ledger_key``."""
    provider_id, _, produce_id = key.decode().partition(_SEP)
    return provider_id, produce_id


def take(
    ledger: MutableMapping[bytes, bytes], rows: Iterable[tuple[str, str, str]]
) -> set[tuple[str, str]]:
    """Records each row's output under its id; the (provider id, ProduceID) pairs of these rows
    that now name more than one output (also those marked before: a further output changes the
    alert's count)."""
    reused: set[tuple[str, str]] = set()
    for provider_id, produce_id, event_id in rows:
        key = ledger_key(provider_id, produce_id)
        output = event_id.encode()
        first = ledger.get(key)
        if first is None:
            ledger[key] = output
        elif first != output:
            if first != REUSED:
                ledger[key] = REUSED
            reused.add((provider_id, produce_id))
    return reused
