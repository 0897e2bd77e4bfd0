"""Admission: which items of a provider's batch enter the event log, and why the others do not.

Pure apart from the injected dedup memory and rate limiter; the caller produces the admitted groups
to Kafka and then settles each group (confirm on broker ack, release on failure).
Order of checks per batch: rate limit (before any work), provider identity, validation and data
minimisation, duplicates. One bad item never affects the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jianguan.contracts import pb
from jianguan.contracts.codec import encode_batch
from jianguan.contracts.validation import DEFAULT_LIMITS, Limits, validate
from jianguan.domain.dedup import RecentIds
from jianguan.domain.ratelimit import RateLimiter

ACCEPTED = pb.ingest_pb2.ITEM_STATUS_ACCEPTED
DUPLICATE = pb.ingest_pb2.ITEM_STATUS_DUPLICATE
RATE_LIMITED = pb.ingest_pb2.ITEM_STATUS_RATE_LIMITED
FORBIDDEN = pb.ingest_pb2.ITEM_STATUS_FORBIDDEN
UNAVAILABLE = pb.ingest_pb2.ITEM_STATUS_UNAVAILABLE


@dataclass(frozen=True, slots=True)
class ProviderPolicy:
    """What admission needs to know about the authenticated caller."""

    provider_id: str
    rate_per_s: float
    burst: float


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    event_id: str
    status: int
    field_path: str
    reason: str


@dataclass(slots=True)
class ServiceGroup:
    """Accepted events of one service, ready to be one Kafka record."""

    service_id: str
    indices: list[int] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    events: list[pb.event_pb2.Event] = field(default_factory=list)
    payload: bytes = b""


@dataclass(slots=True)
class Admitted:
    batch_id: str
    received: int
    rejections: list[Rejection]
    groups: list[ServiceGroup]


class Admission:
    """Decides per item; holds no per-call state, safe to share across concurrent calls."""

    def __init__(
        self, dedup: RecentIds, limiter: RateLimiter, limits: Limits = DEFAULT_LIMITS
    ) -> None:
        self._dedup = dedup
        self._limiter = limiter
        self._limits = limits

    def admit(
        self, provider: ProviderPolicy, batch: pb.EventBatch, raw: bytes | None, now_s: float
    ) -> Admitted:
        """Judge every item of ``batch``; ``raw`` is its received encoding, forwarded unchanged
        when every item is accepted and all belong to one service."""
        pid = provider.provider_id
        events = batch.events
        n = len(events)
        granted = self._limiter.take(pid, n, now_s, provider.rate_per_s, provider.burst)
        check_size = raw is None or len(raw) > self._limits.max_event_bytes
        rejections: list[Rejection] = []
        groups: dict[str, ServiceGroup] = {}
        for i, ev in enumerate(events):
            env = ev.envelope
            event_id = env.event_id
            if i >= granted:
                rejections.append(
                    Rejection(
                        i,
                        event_id,
                        RATE_LIMITED,
                        "",
                        f"over the rate limit of {provider.rate_per_s:.0f} events/s; retry later",
                    )
                )
                continue
            named = env.provider_id
            if named and named != pid:
                rejections.append(
                    Rejection(
                        i,
                        event_id,
                        FORBIDDEN,
                        f"events[{i}].envelope.provider_id",
                        f"names provider {named!r} but the caller is {pid!r}:"
                        " a provider may only report as itself",
                    )
                )
                continue
            problem = validate(ev, now_s, self._limits, check_size)
            if problem is not None:
                path = f"events[{i}].{problem.path}" if problem.path else f"events[{i}]"
                rejections.append(Rejection(i, event_id, problem.status, path, problem.reason))
                continue
            if not self._dedup.claim(pid, event_id):
                rejections.append(
                    Rejection(
                        i,
                        event_id,
                        DUPLICATE,
                        f"events[{i}].envelope.event_id",
                        "this event id was accepted before; it is stored once",
                    )
                )
                continue
            service_id = env.service_id
            group = groups.get(service_id)
            if group is None:
                group = groups[service_id] = ServiceGroup(service_id)
            group.indices.append(i)
            group.event_ids.append(event_id)
            group.events.append(ev)
        if raw is not None and not rejections and len(groups) == 1:
            only = next(iter(groups.values()))
            only.payload = raw
        else:
            for group in groups.values():
                group.payload = encode_batch(
                    batch.batch_id, (ev.SerializeToString() for ev in group.events)
                )
        return Admitted(batch.batch_id, n, rejections, list(groups.values()))

    def settle(self, provider_id: str, group: ServiceGroup, stored: bool) -> list[Rejection]:
        """After the broker answered for ``group``: remember its ids, or forget them and report
        every item UNAVAILABLE so the caller retries."""
        if stored:
            for event_id in group.event_ids:
                self._dedup.confirm(provider_id, event_id)
            return []
        for event_id in group.event_ids:
            self._dedup.release(provider_id, event_id)
        return [
            Rejection(
                i,
                event_id,
                UNAVAILABLE,
                "",
                "the event log did not confirm this item; nothing was stored; retry",
            )
            for i, event_id in zip(group.indices, group.event_ids, strict=True)
        ]
