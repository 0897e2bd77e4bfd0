from jianguan.contracts import pb
from jianguan.domain.dedup import RecentIds
from jianguan.domain.ratelimit import RateLimiter
from jianguan.ingest.admission import (
    DUPLICATE,
    FORBIDDEN,
    RATE_LIMITED,
    UNAVAILABLE,
    Admission,
    ProviderPolicy,
)
from tests.helpers import generation

NOW = 1_800_000_000.0
ACME = ProviderPolicy("acme", rate_per_s=1000, burst=1000)


def _admission() -> Admission:
    return Admission(RecentIds(1000), RateLimiter())


def test_bad_items_do_not_sink_good_ones() -> None:
    events = [generation(f"e{i}", NOW) for i in range(5)]
    events[1].envelope.provider_id = "other"
    events[3].generation.output_type = 77
    batch = pb.EventBatch(batch_id="b", events=events)
    admitted = _admission().admit(ACME, batch, batch.SerializeToString(), NOW)
    assert [(r.index, r.status) for r in admitted.rejections] == [
        (1, FORBIDDEN),
        (3, pb.ingest_pb2.ITEM_STATUS_INVALID),
    ]
    assert admitted.rejections[1].field_path == "events[3].generation.output_type"
    (group,) = admitted.groups
    assert group.indices == [0, 2, 4]
    stored = pb.EventBatch.FromString(group.payload)
    assert [e.envelope.event_id for e in stored.events] == ["e0", "e2", "e4"]
    assert stored.batch_id == "b"


def test_whole_clean_batch_is_forwarded_unchanged() -> None:
    batch = pb.EventBatch(batch_id="b", events=[generation(f"e{i}", NOW) for i in range(3)])
    raw = batch.SerializeToString()
    admitted = _admission().admit(ACME, batch, raw, NOW)
    assert admitted.groups[0].payload is raw


def test_groups_by_service() -> None:
    events = [generation("a", NOW, "s1"), generation("b", NOW, "s2"), generation("c", NOW, "s1")]
    batch = pb.EventBatch(events=events)
    admitted = _admission().admit(ACME, batch, batch.SerializeToString(), NOW)
    assert {g.service_id: g.indices for g in admitted.groups} == {"s1": [0, 2], "s2": [1]}


def test_duplicates_within_and_across_batches() -> None:
    adm = _admission()
    batch = pb.EventBatch(events=[generation("x", NOW), generation("x", NOW)])
    first = adm.admit(ACME, batch, None, NOW)
    assert [(r.index, r.status) for r in first.rejections] == [(1, DUPLICATE)]
    adm.settle("acme", first.groups[0], stored=True)
    again = adm.admit(ACME, pb.EventBatch(events=[generation("x", NOW)]), None, NOW)
    assert [r.status for r in again.rejections] == [DUPLICATE]
    # the same id from another provider is a different event
    other = adm.admit(
        ProviderPolicy("beta", 1000, 1000), pb.EventBatch(events=[generation("x", NOW)]), None, NOW
    )
    assert other.rejections == []


def test_failed_produce_releases_ids_for_retry() -> None:
    adm = _admission()
    batch = pb.EventBatch(events=[generation("y", NOW)])
    first = adm.admit(ACME, batch, None, NOW)
    failed = adm.settle("acme", first.groups[0], stored=False)
    assert [r.status for r in failed] == [UNAVAILABLE]
    retry = adm.admit(ACME, batch, None, NOW)
    assert retry.rejections == []
    assert retry.groups[0].indices == [0]


def test_rate_limit_refuses_the_tail() -> None:
    adm = _admission()
    small = ProviderPolicy("acme", rate_per_s=2, burst=3)
    batch = pb.EventBatch(events=[generation(f"r{i}", NOW) for i in range(5)])
    admitted = adm.admit(small, batch, None, NOW)
    assert [(r.index, r.status) for r in admitted.rejections] == [
        (3, RATE_LIMITED),
        (4, RATE_LIMITED),
    ]
    later = adm.admit(small, pb.EventBatch(events=[generation("r9", NOW)]), None, NOW + 1)
    assert later.rejections == []


def test_items_in_doubt_are_unavailable_until_the_broker_answers() -> None:
    """A record the broker has not answered for in time: its items are UNAVAILABLE, and so is a
    retry (never admitted twice) until the late answer makes them duplicates or new again."""
    admission = _admission()
    batch = pb.EventBatch(events=[generation(f"d{i}", NOW) for i in range(3)])
    raw = batch.SerializeToString()
    (group,) = admission.admit(ACME, batch, raw, NOW).groups
    assert [r.status for r in admission.doubt("acme", group)] == [UNAVAILABLE] * 3
    retry = admission.admit(ACME, batch, raw, NOW)
    assert (retry.groups, [r.status for r in retry.rejections]) == ([], [UNAVAILABLE] * 3)
    assert admission.known("acme", "d0") is None  # in doubt: neither stored nor new
    admission.resolve("acme", group, stored=True)
    assert admission.known("acme", "d0") is True
    assert admission.known("beta", "d0") is False
    again = admission.admit(ACME, batch, raw, NOW)
    assert [r.status for r in again.rejections] == [DUPLICATE] * 3


def test_items_in_doubt_the_broker_refused_are_admitted_again() -> None:
    admission = _admission()
    batch = pb.EventBatch(events=[generation(f"r{i}", NOW) for i in range(2)])
    raw = batch.SerializeToString()
    (group,) = admission.admit(ACME, batch, raw, NOW).groups
    admission.doubt("acme", group)
    admission.resolve("acme", group, stored=False)
    assert admission.known("acme", "r0") is False
    (again,) = admission.admit(ACME, batch, raw, NOW).groups
    assert again.indices == [0, 1]


def test_a_batch_id_over_the_bound_refuses_the_batch_before_anything_is_claimed() -> None:
    admission = _admission()
    events = [generation(f"long{i}", NOW) for i in range(3)]
    batch = pb.EventBatch(batch_id="b" * 100_000, events=events)
    raw = batch.SerializeToString()
    for admitted in (
        admission.admit(ACME, batch, raw, NOW),
        admission.admit_encoded(ACME, raw, NOW, 10_000),
    ):
        assert admitted is not None
        assert admitted.groups == []
        assert admitted.batch_id == "b" * 128  # the ack echoes a bounded prefix
        assert [(r.status, r.field_path) for r in admitted.rejections] == [
            (pb.ingest_pb2.ITEM_STATUS_INVALID, "batch_id")
        ] * 3
    ok = pb.EventBatch(batch_id="b" * 128, events=events)
    (group,) = admission.admit(ACME, ok, ok.SerializeToString(), NOW).groups  # nothing claimed
    assert group.indices == [0, 1, 2]


def test_every_judged_item_has_its_place_in_its_chain_on_both_paths() -> None:
    """Links: where each item claims its place (chain, sequence, prev_hash), for every item
    judged, also those refused for their content; not for an item whose place is unreadable or
    that the rate limit left unjudged. The native scanner and the reference agree."""
    from jianguan_sdk.chain import event_hash
    from tests.helpers import chained

    events = chained("ln", 5, service="svc-a", stream="pod-1")
    claimed = event_hash(events[2])  # what the fourth item names as its previous
    events[1].generation.user_ref = "13812345678"  # content refused (Art. 11): still placed
    events[2].envelope.sequence = 0  # no place: its sequence is what is wrong
    raw = pb.EventBatch(batch_id="b", events=events).SerializeToString()
    tight = ProviderPolicy("acme", rate_per_s=4, burst=4)  # the fifth item is not judged
    native = _admission().admit_encoded(tight, raw, NOW, 100)
    assert native is not None
    reference = _admission().admit(tight, pb.EventBatch.FromString(raw), raw, NOW)
    for admitted in (native, reference):
        assert sorted(admitted.links) == [0, 1, 3]
        link = admitted.links[3]
        assert (link.service_id, link.stream_id, link.sequence) == ("svc-a", "pod-1", 4)
        assert link.prev_hash == claimed
        assert link.event_id == "ln-3"
        assert admitted.encoding(3) == events[3].SerializeToString()
