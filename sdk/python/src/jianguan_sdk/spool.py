"""A bounded on-disk spool: the provider's outbox of sealed events, kept until the gateway answered.

Layout of the spool directory:
- ``NNNNNNNNNNNN.seg`` — segments of framed records (length, CRC32, payload), in order;
- ``NNNNNNNNNNNN.meta`` — a snapshot the owner gave when that segment was started (the SDK keeps its
  hash-chain heads there, so a restart rebuilds them from the newest meta plus its segment);
- ``acked`` — the position (segment, offset) up to which every record has been answered.

A record is on disk (written and flushed to the OS, or fsynced with ``fsync=True``) before
``append`` returns, so a killed process loses nothing it was told was spooled. A record torn by a
crash mid-write was never acknowledged to anyone and is cut off on open. When the spool is full,
``append`` raises ``SpoolFull`` and writes nothing: it never drops.

Not thread-safe: one owner (one asyncio loop or one thread) per directory, enforced by a lock file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_HEADER = struct.Struct(">II")
_SEG = ".seg"
_META = ".meta"


class SpoolFull(Exception):
    """The spool holds ``max_bytes``; the caller must slow down or raise the bound."""


class SpoolLocked(Exception):
    """Another process owns this spool directory."""


@dataclass(frozen=True, slots=True, order=True)
class Position:
    segment: int
    offset: int


@dataclass(frozen=True, slots=True)
class Entry:
    """A spooled record; ``end`` is the position just after it (what ``ack`` takes)."""

    end: Position
    payload: bytes


def _name(n: int, suffix: str) -> str:
    return f"{n:012d}{suffix}"


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def scan(
    path: Path, start: int = 0, max_items: int | None = None
) -> tuple[list[tuple[int, bytes]], int]:
    """Complete records of a segment from ``start`` (at most ``max_items``): [(end offset,
    payload)], and the offset where they end (on a full scan, where a torn or corrupt tail
    starts)."""
    out: list[tuple[int, bytes]] = []
    pos = start
    with open(path, "rb") as f:
        f.seek(start)
        buf = b""
        base = start  # file offset of buf[0]
        while max_items is None or len(out) < max_items:
            at = pos - base
            if at + _HEADER.size > len(buf) or (
                at + _HEADER.size + _HEADER.unpack_from(buf, at)[0] > len(buf)
            ):
                more = f.read(1 << 20)
                if not more:
                    break
                buf = buf[at:] + more
                base = pos
                continue
            length, crc = _HEADER.unpack_from(buf, at)
            payload = buf[at + _HEADER.size : at + _HEADER.size + length]
            if zlib.crc32(payload) != crc:
                break
            pos += _HEADER.size + length
            out.append((pos, payload))
    return out, pos


class Spool:
    """Append sealed records, read them in order, acknowledge a prefix.

    ``meta`` is called when a segment is started; its bytes are stored beside the segment and
    handed back by ``newest`` after a restart.
    """

    def __init__(
        self,
        directory: Path | str,
        meta: Callable[[], bytes],
        max_bytes: int = 256 * 1024 * 1024,
        segment_bytes: int = 8 * 1024 * 1024,
        fsync: bool = False,
    ) -> None:
        if segment_bytes > max_bytes:
            raise ValueError("segment_bytes must not exceed max_bytes")
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.dir / "lock", "a+b")  # noqa: SIM115 (held for the spool's life)
        try:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise SpoolLocked(f"{self.dir} is used by another process") from None
        self._meta = meta
        self.max_bytes = max_bytes
        self._segment_bytes = segment_bytes
        self._fsync = fsync
        self._sizes: dict[int, int] = {}
        for p in sorted(self.dir.glob("*" + _SEG)):
            self._sizes[int(p.stem)] = p.stat().st_size
        self._acked = self._load_acked()
        # Cut a torn tail off the newest segment (a crash mid-append).
        if self._sizes:
            last = max(self._sizes)
            _, intact = scan(self._seg(last))
            if intact < self._sizes[last]:
                with open(self._seg(last), "r+b") as f:
                    f.truncate(intact)
                self._sizes[last] = intact
        self.pending = sum(
            len(scan(self._seg(n), self._acked.offset if n == self._acked.segment else 0)[0])
            for n in self._sizes
            if n >= self._acked.segment
        )
        self._read = self._acked
        self._writer: BinaryIO | None = None

    # -- paths and state --------------------------------------------------------------------

    def _seg(self, n: int) -> Path:
        return self.dir / _name(n, _SEG)

    def _load_acked(self) -> Position:
        try:
            seg, off = (self.dir / "acked").read_text().split()
            return Position(int(seg), int(off))
        except FileNotFoundError:
            return Position(min(self._sizes, default=1), 0)

    @property
    def size_bytes(self) -> int:
        return sum(self._sizes.values())

    def newest(self) -> tuple[bytes, list[bytes]]:
        """The newest segment's meta and every record in it (acknowledged or not): with them the
        owner rebuilds the state it had after its last append."""
        if not self._sizes:
            return b"", []
        last = max(self._sizes)
        meta_path = self.dir / _name(last, _META)
        meta = meta_path.read_bytes() if meta_path.exists() else b""
        return meta, [p for _, p in scan(self._seg(last))[0]]

    # -- writing ------------------------------------------------------------------------------

    def append(self, payloads: Sequence[bytes]) -> None:
        """Write every payload or none; raises ``SpoolFull`` when they would not fit."""
        frames = [_HEADER.pack(len(p), zlib.crc32(p)) + p for p in payloads]
        size = sum(len(f) for f in frames)
        if self.size_bytes + size > self.max_bytes:
            raise SpoolFull(
                f"spool {self.dir} is full ({self.size_bytes} of {self.max_bytes} bytes, "
                f"{self.pending} events not yet answered by the gateway): nothing was dropped; "
                "wait for delivery or raise max_bytes"
            )
        writer = self._writer_for(size)
        last = max(self._sizes)
        try:
            writer.write(b"".join(frames))
            writer.flush()
            if self._fsync:
                os.fsync(writer.fileno())
        except OSError:
            # e.g. a full disk: take back whatever part was written (truncating needs no
            # space), then report it; the next append opens the segment afresh.
            self._writer = None
            with contextlib.suppress(OSError):
                writer.close()  # flushing the rest of the buffer fails again on a full disk
            with open(self._seg(last), "r+b") as f:
                f.truncate(self._sizes[last])
            raise
        self._sizes[last] += size
        self.pending += len(payloads)

    def _writer_for(self, size: int) -> BinaryIO:
        last = max(self._sizes, default=0)
        fits = last > 0 and (
            self._sizes[last] + size <= self._segment_bytes or self._sizes[last] == 0
        )
        if fits:
            if self._writer is None:
                self._writer = open(self._seg(last), "ab")  # noqa: SIM115
            return self._writer
        if self._writer is not None:
            old, self._writer = self._writer, None  # never left holding a closed file
            old.close()
        n = last + 1
        _write_atomically(self.dir / _name(n, _META), self._meta())
        self._writer = open(self._seg(n), "ab")  # noqa: SIM115
        self._sizes[n] = 0
        return self._writer

    # -- reading and acknowledging -----------------------------------------------------------

    def read(self, max_items: int) -> list[Entry]:
        """Up to ``max_items`` records after the last one read, in order."""
        out: list[Entry] = []
        pos = self._read
        while len(out) < max_items and pos.segment in self._sizes:
            if pos.offset >= self._sizes[pos.segment]:
                later = [n for n in self._sizes if n > pos.segment]
                if not later:
                    break
                pos = Position(min(later), 0)
                continue
            records, _ = scan(self._seg(pos.segment), pos.offset, max_items - len(out))
            for end, payload in records:
                pos = Position(pos.segment, end)
                out.append(Entry(pos, payload))
            if not records:
                break
        self._read = pos
        return out

    def rewind(self) -> None:
        """Read again from the first record not acknowledged (after a failed send)."""
        self._read = self._acked

    def ack(self, through: Position, count: int) -> None:
        """Every record up to ``through`` (``count`` of them since the last ack) is answered."""
        if through <= self._acked:
            return
        self._acked = through
        self.pending -= count
        if self._read < through:
            self._read = through
        _write_atomically(self.dir / "acked", f"{through.segment} {through.offset}".encode())
        newest = max(self._sizes)
        for n in sorted(self._sizes):
            if n >= through.segment or n == newest:
                break
            self._seg(n).unlink()
            (self.dir / _name(n, _META)).unlink(missing_ok=True)
            del self._sizes[n]

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._lock.close()
