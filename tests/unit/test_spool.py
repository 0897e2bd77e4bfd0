"""The SDK's on-disk spool: order, bounds, acknowledgement and restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from jianguan.sdk.spool import Spool, SpoolFull, SpoolLocked


def _spool(path: Path, **kw: int) -> Spool:
    return Spool(path, lambda: b"meta", **kw)


def test_records_come_back_in_order_across_segments(tmp_path: Path) -> None:
    s = _spool(tmp_path, max_bytes=10_000, segment_bytes=100)
    for i in range(30):
        s.append([f"r{i:02d}".encode()])
    assert len(list(tmp_path.glob("*.seg"))) > 1
    got = [e.payload for e in s.read(12)] + [e.payload for e in s.read(100)]
    assert got == [f"r{i:02d}".encode() for i in range(30)]
    assert s.pending == 30
    s.close()


def test_a_full_spool_refuses_the_whole_append_and_drops_nothing(tmp_path: Path) -> None:
    s = _spool(tmp_path, max_bytes=100, segment_bytes=100)
    s.append([b"x" * 30, b"y" * 30])
    with pytest.raises(SpoolFull, match="nothing was dropped"):
        s.append([b"a" * 10, b"b" * 30])
    assert s.pending == 2
    assert [e.payload for e in s.read(10)] == [b"x" * 30, b"y" * 30]
    s.close()


def test_acknowledged_records_free_their_segments(tmp_path: Path) -> None:
    s = _spool(tmp_path, max_bytes=700, segment_bytes=100)
    for i in range(20):
        s.append([b"%02d" % i + b"." * 20])
    entries = s.read(20)
    s.ack(entries[-1].end, 20)
    assert s.pending == 0
    assert len(list(tmp_path.glob("*.seg"))) == 1  # only the newest stays
    for _ in range(10):  # room again only because the acknowledged segments are gone
        s.append([b"n" * 28])
    s.close()


def test_rewind_reads_again_from_the_first_unacknowledged(tmp_path: Path) -> None:
    s = _spool(tmp_path)
    s.append([b"a", b"b", b"c", b"d"])
    first = s.read(4)
    s.ack(first[1].end, 2)
    s.rewind()
    assert [e.payload for e in s.read(10)] == [b"c", b"d"]
    s.close()


def test_a_restart_resumes_after_the_last_acknowledged_record(tmp_path: Path) -> None:
    s = _spool(tmp_path, segment_bytes=64)
    s.append([b"one", b"two", b"three", b"four", b"five"])
    got = s.read(3)
    s.ack(got[1].end, 2)
    s.close()
    again = _spool(tmp_path, segment_bytes=64)
    assert again.pending == 3
    assert [e.payload for e in again.read(10)] == [b"three", b"four", b"five"]
    again.close()


def test_a_record_torn_by_a_crash_is_cut_off_on_open(tmp_path: Path) -> None:
    s = _spool(tmp_path)
    s.append([b"whole", b"also whole"])
    s.close()
    seg = next(tmp_path.glob("*.seg"))
    with open(seg, "ab") as f:
        f.write(b"\x00\x00\x00\x10\x00\x00")  # a header and no payload
    again = _spool(tmp_path)
    assert again.pending == 2
    assert [e.payload for e in again.read(10)] == [b"whole", b"also whole"]
    again.append([b"after"])
    assert [e.payload for e in again.read(10)] == [b"after"]
    again.close()


def test_newest_gives_the_meta_and_records_of_the_newest_segment(tmp_path: Path) -> None:
    snapshots = iter([b"first", b"second"])
    s = Spool(tmp_path, lambda: next(snapshots), segment_bytes=20)
    s.append([b"a" * 10])
    s.append([b"b" * 10])  # does not fit the first segment: a second one, with its meta
    s.close()
    again = Spool(tmp_path, lambda: b"unused")
    assert again.newest() == (b"second", [b"b" * 10])
    again.close()


def test_one_owner_per_directory(tmp_path: Path) -> None:
    s = _spool(tmp_path)
    with pytest.raises(SpoolLocked):
        _spool(tmp_path)
    s.close()
    _spool(tmp_path).close()
