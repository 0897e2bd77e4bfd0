from jianguan.domain.chain import BAD_START, FORK, GAP, MISMATCH, ChainLink, verify_chain
from jianguan_sdk.chain import event_hash
from tests.helpers import chained


def _links(n: int) -> list[ChainLink]:
    return [
        ChainLink(e.envelope.sequence, e.envelope.event_id, e.envelope.prev_hash, event_hash(e))
        for e in chained("c", n)
    ]


def test_an_intact_chain_has_no_breaks() -> None:
    assert verify_chain(_links(5)) == []


def test_missing_events_are_a_gap() -> None:
    links = _links(6)
    (brk,) = verify_chain(links[:2] + links[4:])
    assert (brk.kind, brk.sequence) == (GAP, 5)
    assert "3..4" in brk.detail
    (start,) = verify_chain(links[2:])
    assert (start.kind, start.sequence) == (GAP, 3)


def test_an_altered_event_breaks_the_next_link() -> None:
    links = _links(4)
    altered = ChainLink(3, links[2].event_id, links[2].prev_hash, b"\x00" * 32)
    (brk,) = verify_chain([links[0], links[1], altered, links[3]])
    assert (brk.kind, brk.sequence) == (MISMATCH, 4)


def test_two_events_with_one_sequence_are_a_fork() -> None:
    links = _links(3)
    twin = ChainLink(2, "other", links[1].prev_hash, b"\x01" * 32)
    kinds = [(b.kind, b.sequence) for b in verify_chain([links[0], links[1], twin, links[2]])]
    assert kinds == [(FORK, 2)]


def test_first_event_must_not_name_a_previous() -> None:
    links = _links(1)
    bad = ChainLink(1, "x", b"\x02" * 32, links[0].own_hash)
    assert [b.kind for b in verify_chain([bad])] == [BAD_START]
