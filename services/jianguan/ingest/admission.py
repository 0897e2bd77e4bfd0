"""Admission: which items of a provider's batch enter the event log, and why the others do not.

Pure apart from the injected dedup memory and rate limiter; the caller produces the admitted groups
to Kafka and then settles each group (its ids stay remembered on broker ack, are released on
failure).
Order of checks per batch: rate limit (before any work: a provider with no token left has its
batch refused whole from its outline, no event read), provider identity, validation and data
minimisation, duplicates. One bad item never affects the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from google.protobuf.message import DecodeError

from jianguan.accounts.registry import ProviderPolicy
from jianguan.contracts import pb, wire
from jianguan.contracts.codec import SplitBatch, encode_batch, split_batch
from jianguan.domain.dedup import RecentIds
from jianguan.domain.ratelimit import RateLimiter
from jianguan_sdk.validation import DEFAULT_LIMITS, Limits, Problem, validate

ACCEPTED = pb.ingest_pb2.ITEM_STATUS_ACCEPTED
DUPLICATE = pb.ingest_pb2.ITEM_STATUS_DUPLICATE
RATE_LIMITED = pb.ingest_pb2.ITEM_STATUS_RATE_LIMITED
FORBIDDEN = pb.ingest_pb2.ITEM_STATUS_FORBIDDEN
UNAVAILABLE = pb.ingest_pb2.ITEM_STATUS_UNAVAILABLE
INVALID = pb.ingest_pb2.ITEM_STATUS_INVALID


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
    newest_s: int = 0  # occurred_at of the newest event, for the reporting-lag metric
    payload: bytes = b""


class Link(NamedTuple):
    """Where an item claims its place: its chain (service, stream), sequence and prev_hash.
    (A tuple: one is made for every event received.)"""

    service_id: str
    stream_id: str
    sequence: int
    prev_hash: bytes
    event_id: str


# The envelope fields that place an item in its chain: an item invalid in one has no place.
_CHAIN_FIELDS = frozenset(
    f"envelope.{f}" for f in ("service_id", "stream_id", "sequence", "prev_hash")
)


@dataclass(slots=True)
class Admitted:
    batch_id: str
    received: int
    rejections: list[Rejection]
    groups: list[ServiceGroup]
    # Every item judged (within the rate granted) whose place in its chain is readable, by index.
    links: dict[int, Link] = field(default_factory=dict)
    # The encoding of an item as received (its canonical encoding when the sender followed the
    # contract); None for an item not read.
    encoding: Callable[[int], bytes | None] = lambda i: None


def _link(env: pb.envelope_pb2.Envelope) -> Link:
    return Link(env.service_id, env.stream_id, env.sequence, env.prev_hash, env.event_id)


def _rate_limited(i: int, event_id: str, provider: ProviderPolicy) -> Rejection:
    return Rejection(
        i,
        event_id,
        RATE_LIMITED,
        "",
        f"over the rate limit of {provider.rate_per_s:.0f} events/s; retry later",
    )


def _forbidden(i: int, event_id: str, named: str, pid: str) -> Rejection:
    return Rejection(
        i,
        event_id,
        FORBIDDEN,
        f"events[{i}].envelope.provider_id",
        f"names provider {named!r} but the caller is {pid!r}: a provider may only report as itself",
    )


def _invalid(i: int, event_id: str, problem: Problem) -> Rejection:
    path = f"events[{i}].{problem.path}" if problem.path else f"events[{i}]"
    return Rejection(i, event_id, problem.status, path, problem.reason)


def _duplicate(i: int, event_id: str) -> Rejection:
    return Rejection(
        i,
        event_id,
        DUPLICATE,
        f"events[{i}].envelope.event_id",
        "this event id was accepted before; it is stored once",
    )


def _unconfirmed(i: int, event_id: str) -> Rejection:
    return Rejection(
        i,
        event_id,
        UNAVAILABLE,
        "",
        "the event log has not confirmed this item yet; nothing is acknowledged; retry",
    )


def _seal(
    batch_id: str,
    raw: bytes | None,
    rejections: list[Rejection],
    groups: dict[str, ServiceGroup],
    encoding: Callable[[int], bytes],
) -> list[ServiceGroup]:
    """Each group's record: the received encoding unchanged when it is exactly one group with
    nothing left out, otherwise the group's events (``encoding(index)``) re-framed."""
    if raw is not None and not rejections and len(groups) == 1:
        only = next(iter(groups.values()))
        only.payload = raw
    else:
        for group in groups.values():
            group.payload = encode_batch(batch_id, map(encoding, group.indices))
    return list(groups.values())


def _malformed(split: SplitBatch, events: list[pb.event_pb2.Event]) -> Admitted:
    """A batch that stops being readable part way: nothing in it is accepted. Every item read is
    answered, and so is the position where reading stopped (``received`` counts it): items after
    it were not received and must be sent again in a well-formed batch."""
    k = len(events)
    reason = (
        f"the batch is malformed from byte {split.broken_at} on ({split.problem}): nothing"
        f" in it was accepted; items from index {k} on were not received"
    )
    rejections = [
        Rejection(i, ev.envelope.event_id, INVALID, "", reason) for i, ev in enumerate(events)
    ]
    rejections.append(Rejection(k, "", INVALID, f"events[{k}]", reason))
    return Admitted(split.batch_id, k + 1, rejections, [])


class Admission:
    """Decides per item; holds no per-call state, safe to share across concurrent calls."""

    def __init__(
        self,
        dedup: RecentIds,
        limiter: RateLimiter,
        limits: Limits = DEFAULT_LIMITS,
        rate_share: float = 1.0,
    ) -> None:
        """``rate_share``: the part of each provider's rate and burst this process grants (one
        over the number of gateway replicas sharing the provider's traffic)."""
        self._dedup = dedup
        self._limiter = limiter
        self._limits = limits
        self._share = rate_share
        # Claimed ids whose record the broker has not confirmed or refused in time.
        self._in_doubt: set[tuple[str, str]] = set()

    def known(self, provider_id: str, event_id: str) -> bool | None:
        """What this process knows of an id: True, in the event log (or claimed by a batch being
        stored now); None, in doubt (the broker has not answered for it yet); False, unknown."""
        if (provider_id, event_id) in self._in_doubt:
            return None
        return (provider_id, event_id) in self._dedup

    def _bucket(self, provider: ProviderPolicy) -> tuple[float, float]:
        """The provider's rate and burst in this process (its share of them)."""
        return provider.rate_per_s * self._share, provider.burst * self._share

    def _take(self, provider: ProviderPolicy, wanted: int, now_s: float) -> int:
        return self._limiter.take(provider.provider_id, wanted, now_s, *self._bucket(provider))

    def over_rate(self, provider: ProviderPolicy, raw: bytes, now_s: float) -> Admitted | None:
        """The batch refused whole as RATE_LIMITED when the provider has no token left, judged
        from its outline alone (no event is read, nothing claimed, no token taken); None when
        it has tokens (or the outline cannot say: then the full path answers)."""
        if self._limiter.available(provider.provider_id, now_s, *self._bucket(provider)) >= 1:
            return None
        outline = wire.outline(raw)
        if outline is None or len(outline[0].encode()) > self._limits.max_batch_id_bytes:
            return None
        batch_id, n = outline
        return Admitted(batch_id, n, [_rate_limited(i, "", provider) for i in range(n)], [])

    def judge(
        self, provider: ProviderPolicy, raw: bytes, now_s: float, max_events: int
    ) -> Admitted:
        """Every item of the received batch ``raw`` judged: the one call of an ingest path.
        Refused whole from its outline when the provider has no token left; else through the
        native scanner (``admit_encoded``) when it can read the batch, else through protobuf
        (``admit``, the reference): a batch of more than ``max_events`` events is refused whole,
        one that stops being readable part way has every item read answered and nothing
        accepted, and an item that is no Event is answered INVALID on its own."""
        refused = self.over_rate(provider, raw, now_s)
        if refused is not None:
            return refused
        admitted = self.admit_encoded(provider, raw, now_s, max_events)
        if admitted is not None:
            return admitted
        undecodable: dict[int, str] = {}
        try:
            batch = pb.EventBatch.FromString(raw)
        except DecodeError:
            split = split_batch(raw)
            events = []
            for i, data in enumerate(split.events):
                try:
                    events.append(pb.Event.FromString(data))
                except DecodeError as exc:
                    events.append(pb.Event())
                    undecodable[i] = f"is not a valid jianguan.v1.Event: {exc}"
            if split.broken_at is not None:
                return _malformed(split, events)
            batch = pb.EventBatch(batch_id=split.batch_id, events=events)
        if len(batch.events) > max_events:
            reason = f"the batch holds {len(batch.events)} events; the limit is {max_events}"
            rejected = [
                Rejection(i, ev.envelope.event_id, INVALID, "events", reason)
                for i, ev in enumerate(batch.events)
            ]
            return Admitted(batch.batch_id, len(batch.events), rejected, [])
        if undecodable:
            return self.admit(provider, batch, None, now_s, undecodable)
        return self.admit(provider, batch, raw, now_s)

    def admit(
        self,
        provider: ProviderPolicy,
        batch: pb.EventBatch,
        raw: bytes | None,
        now_s: float,
        undecodable: Mapping[int, str] | None = None,
    ) -> Admitted:
        """Judge every item of ``batch``; ``raw`` is its received encoding, forwarded unchanged
        when every item is accepted and all belong to one service. The reference path: every
        item through the Python validator. ``undecodable``: positions whose bytes were not an
        Event (held by empty events in ``batch``), answered INVALID with the reason given."""
        pid = provider.provider_id
        events = batch.events
        n = len(events)
        refused = self._long_batch_id(batch.batch_id, [e.envelope.event_id for e in events])
        if refused is not None:
            return refused
        granted = self._take(provider, n, now_s)
        check_size = raw is None or len(raw) > self._limits.max_event_bytes
        rejections: list[Rejection] = []
        groups: dict[str, ServiceGroup] = {}
        links: dict[int, Link] = {}
        for i, ev in enumerate(events):
            env = ev.envelope
            event_id = env.event_id
            if i >= granted:
                rejections.append(_rate_limited(i, event_id, provider))
                continue
            if undecodable and i in undecodable:
                rejections.append(Rejection(i, "", INVALID, f"events[{i}]", undecodable[i]))
                continue
            named = env.provider_id
            if named and named != pid:
                links[i] = _link(env)
                rejections.append(_forbidden(i, event_id, named, pid))
                continue
            problem = validate(ev, now_s, self._limits, check_size)
            if problem is None or problem.path not in _CHAIN_FIELDS:
                links[i] = _link(env)
            if problem is not None:
                rejections.append(_invalid(i, event_id, problem))
                continue
            if not self._dedup.claim(pid, event_id):
                rejections.append(self._repeat(i, pid, event_id))
                continue
            group = groups.get(env.service_id)
            if group is None:
                group = groups[env.service_id] = ServiceGroup(env.service_id)
            group.indices.append(i)
            group.event_ids.append(event_id)
            group.newest_s = max(group.newest_s, env.occurred_at.seconds)

        def encoding(i: int) -> bytes | None:
            return None if undecodable and i in undecodable else events[i].SerializeToString()

        sealed = _seal(
            batch.batch_id, raw, rejections, groups, lambda i: events[i].SerializeToString()
        )
        return Admitted(batch.batch_id, n, rejections, sealed, links, encoding)

    def admit_encoded(
        self, provider: ProviderPolicy, raw: bytes, now_s: float, max_events: int
    ) -> Admitted | None:
        """``admit`` for a received encoding, through the native scanner: the events it proves
        valid skip the Python validator, the others take it one by one. None when the batch
        must go through ``admit`` (not plainly encoded, more than ``max_events`` events, or no
        native scanner); then nothing has been claimed or counted against the rate limit."""
        scan = wire.scanner()
        if scan is None:
            return None
        lim = self._limits
        scanned = scan.scan(raw, now_s, lim.max_future_skew_s, lim.max_age_s, lim.max_event_bytes)
        if scanned is None or len(scanned[1]) > max_events:
            return None
        batch_id, ids, services, named, suspects, starts, ends, newest, places = scanned
        refused = self._long_batch_id(batch_id, ids)
        if refused is not None:
            return refused
        judged: dict[int, pb.event_pb2.Event] = {}
        for i in suspects:  # decoded before anything is claimed, so None stays side-effect free
            try:
                judged[i] = pb.Event.FromString(raw[starts[i] : ends[i]])
            except DecodeError:
                return None
        pid = provider.provider_id
        n = len(ids)
        granted = self._take(provider, n, now_s)
        names = dict(named)
        special = names.keys() | judged.keys()  # the rest: only the duplicate check is left
        claim = self._dedup.claim
        rejections: list[Rejection] = []
        groups: dict[str, ServiceGroup] = {}
        group: ServiceGroup | None = None
        links: dict[int, Link] = {}
        for i in range(min(n, granted)):
            event_id, service_id = ids[i], services[i]
            if i in special:
                ev = judged.get(i)
                if ev is not None:
                    event_id, service_id = ev.envelope.event_id, ev.envelope.service_id
                claimed = names.get(i, "") if ev is None else ev.envelope.provider_id
                problem = None if ev is None else validate(ev, now_s, self._limits)
                if problem is None or problem.path not in _CHAIN_FIELDS:
                    stream, sequence, prev = places[i]
                    links[i] = Link(service_id, stream, sequence, prev, event_id)
                if claimed and claimed != pid:
                    rejections.append(_forbidden(i, event_id, claimed, pid))
                    continue
                if problem is not None:
                    rejections.append(_invalid(i, event_id, problem))
                    continue
            else:
                stream, sequence, prev = places[i]
                links[i] = Link(service_id, stream, sequence, prev, event_id)
            if not claim(pid, event_id):
                rejections.append(self._repeat(i, pid, event_id))
                continue
            if group is None or group.service_id != service_id:
                group = groups.get(service_id)
                if group is None:
                    group = groups[service_id] = ServiceGroup(service_id, newest_s=newest)
            group.indices.append(i)
            group.event_ids.append(event_id)
        for i in range(granted, n):
            late = judged.get(i)
            event_id = ids[i] if late is None else late.envelope.event_id
            rejections.append(_rate_limited(i, event_id, provider))

        def encoding(i: int) -> bytes:
            # A judged event is re-encoded plainly, so the store can read it natively too.
            ev = judged.get(i)
            return raw[starts[i] : ends[i]] if ev is None else ev.SerializeToString()

        forward = raw if not judged else None
        sealed = _seal(batch_id, forward, rejections, groups, encoding)
        return Admitted(batch_id, n, rejections, sealed, links, encoding)

    def _long_batch_id(self, batch_id: str, event_ids: list[str]) -> Admitted | None:
        """A batch whose id is over the bound is refused whole before anything is claimed or
        counted (its id would be copied into every stored row); the ack echoes a prefix."""
        limit = self._limits.max_batch_id_bytes
        if len(batch_id.encode()) <= limit:
            return None
        reason = f"batch_id is {len(batch_id.encode())} bytes; the limit is {limit}"
        shown = batch_id.encode()[:limit].decode("utf-8", "ignore")
        rejected = [Rejection(i, e, INVALID, "batch_id", reason) for i, e in enumerate(event_ids)]
        return Admitted(shown, len(event_ids), rejected, [])

    def _repeat(self, i: int, pid: str, event_id: str) -> Rejection:
        """An id already claimed: a duplicate, unless its record's fate is still unknown."""
        if self._in_doubt and (pid, event_id) in self._in_doubt:
            return _unconfirmed(i, event_id)
        return _duplicate(i, event_id)

    def withdraw(
        self,
        provider_id: str,
        admitted: Admitted,
        answers: Mapping[int, Rejection],
        forget: set[int],
    ) -> None:
        """Answer the items of ``answers`` so instead (a later check refused them): those admitted
        leave their groups (re-framed without them), the ids of those in ``forget`` are released
        (they are not stored), and their answers replace admission's."""
        if not answers:
            return
        for group in admitted.groups:
            kept = [(i, e) for i, e in zip(group.indices, group.event_ids, strict=True)
                    if i not in answers]  # fmt: skip
            if len(kept) == len(group.indices):
                continue
            group.indices = [i for i, _ in kept]
            group.event_ids = [e for _, e in kept]
            encoded = (admitted.encoding(i) for i in group.indices)
            group.payload = encode_batch(admitted.batch_id, (e for e in encoded if e is not None))
        admitted.groups = [g for g in admitted.groups if g.indices]
        for i in forget:
            self._dedup.release(provider_id, answers[i].event_id)
        admitted.rejections = [r for r in admitted.rejections if r.index not in answers]
        admitted.rejections.extend(answers.values())

    def settle(self, provider_id: str, group: ServiceGroup, stored: bool) -> list[Rejection]:
        """After the broker answered for ``group``: remember its ids, or forget them and report
        every item UNAVAILABLE so the caller retries."""
        if stored:
            return []  # remembered since they were claimed
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

    def doubt(self, provider_id: str, group: ServiceGroup) -> list[Rejection]:
        """The broker has not answered for ``group`` in time: report its items UNAVAILABLE now
        and keep their ids claimed but in doubt (a retry is answered UNAVAILABLE, never produced
        a second time) until ``resolve`` learns the record's fate."""
        self._in_doubt.update((provider_id, e) for e in group.event_ids)
        return [
            _unconfirmed(i, event_id)
            for i, event_id in zip(group.indices, group.event_ids, strict=True)
        ]

    def resolve(self, provider_id: str, group: ServiceGroup, stored: bool) -> None:
        """The late answer for a group in doubt: its ids become duplicates (stored) or are
        forgotten (not stored), so the next retry is answered for what really happened."""
        for event_id in group.event_ids:
            self._in_doubt.discard((provider_id, event_id))
        self.settle(provider_id, group, stored)
