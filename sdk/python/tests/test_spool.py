"""The SDK's on-disk spool: order, bounds, acknowledgement and restart."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from jianguan_sdk.spool import Spool, SpoolFull, SpoolLocked


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


class _Disk:
    """Files that fail with ENOSPC while ``full`` is set, after taking part of a write."""

    def __init__(self) -> None:
        self.full = False

    def open(self, path: object, mode: str = "r", *args: object, **kw: object) -> object:
        import builtins

        f = builtins.open(path, mode, *args, **kw)  # type: ignore[call-overload]  # noqa: SIM115
        if "a" not in mode and "w" not in mode:
            return f
        disk = self

        class Failing:
            def __getattr__(self, name: str) -> object:
                return getattr(f, name)

            def write(self, data: bytes) -> int:
                if disk.full:
                    f.write(data[: len(data) // 2])  # part of it reaches the file
                    f.flush()
                    raise OSError(errno.ENOSPC, "No space left on device")
                return int(f.write(data))

            def __enter__(self) -> Failing:
                return self

            def __exit__(self, *exc: object) -> None:
                f.close()

        return Failing()


def test_a_full_disk_refuses_the_whole_append_and_the_spool_recovers_when_space_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = _Disk()
    monkeypatch.setattr("jianguan_sdk.spool.open", disk.open, raising=False)
    s = _spool(tmp_path, max_bytes=10_000, segment_bytes=60)
    s.append([b"before"])
    disk.full = True
    for _ in range(3):  # in the current segment, and when a new one would be started
        with pytest.raises(OSError, match="No space left"):
            s.append([f"refused-{i}".encode() for i in range(7)])
        with pytest.raises(OSError, match="No space left"):
            s.append([b"z" * 50])
    assert s.pending == 1
    disk.full = False
    s.append([b"after"])
    assert [e.payload for e in s.read(100)] == [b"before", b"after"]
    s.close()
    again = _spool(tmp_path, max_bytes=10_000, segment_bytes=60)
    assert [e.payload for e in again.read(100)] == [b"before", b"after"]
    again.close()
