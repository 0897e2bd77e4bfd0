"""Feeds the ProduceID ledger (``domain.produce_ids``) with what the event store took in, reading
only the seconds of ``produce_id_intake`` (migration 0026) whose row count changed since the
last round.

A row becomes visible moments after its ``ingested_at``, so a round looks at the counts of the
seconds since its last reach less the margin (``INGESTION_MARGIN_S``: a cheap read of the index's
first column) and reads the rows of a second again only when its count changed: the margin costs
a count per second, not a re-read. Before the margin, nothing changes any more: a new ledger, or
one left for longer than the margin, is first fed the settled past in slices of at most
``SLICE_ROWS`` rows, counted by the minute. Taking a row twice changes nothing in the ledger.

How far the ledger was fed (``CURSOR``) is kept in the ledger itself, written after the rows: a
process that stops between them feeds those seconds again. So are the ids found reused and not
yet settled (``PENDING``: their alert not yet published), since the rows that revealed them are
not read again.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path

import rocksdict

from jianguan.domain.produce_ids import ledger_key, pair_of, take
from jianguan.store import produce_id_intake as intake
from jianguan.store.executor import Executor

# Sort apart from every id (a provider id starts with a letter).
CURSOR = b"\x01fed until"
PENDING = b"\x01pending"
SLICE_ROWS = 200_000


def open_ledger(path: Path) -> rocksdict.Rdict:
    """The ledger on disk (RocksDB): memtables of 16 MB (the default 64 MB ones added ~100 MB to
    the processors' RSS within five minutes at 14,500 events/s), misses answered by a filter."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = rocksdict.Options(raw_mode=True)
    options.create_if_missing(True)
    options.set_write_buffer_size(16 * 2**20)
    table = rocksdict.BlockBasedOptions()
    table.set_bloom_filter(10, False)
    options.set_block_based_table_factory(table)
    return rocksdict.Rdict(str(path), options=options)


class ProduceIdFeed:
    def __init__(self, ledger: MutableMapping[bytes, bytes], margin_s: float) -> None:
        self.ledger = ledger
        self._margin_s = int(margin_s)
        self._counts: dict[int, int] = {}  # second (epoch) → rows seen in it, within the margin
        self._found: set[tuple[str, str]] = set()

    def round(self, ex: Executor, now: float, in_force: float) -> set[tuple[str, str]]:
        """Takes what came in since the last round; the (provider id, ProduceID) pairs among it
        that name more than one output (occurring since ``in_force``), and those still pending."""
        fed = self.ledger.get(CURSOR)
        since = max(0, int(fed) - self._margin_s) if fed is not None else 0
        reused: set[tuple[str, str]] = set()
        settled = int(now) - self._margin_s
        if since < settled - self._margin_s:  # new, or left for long: the settled past first
            reused |= self._settled_past(ex, since, settled, int(in_force))
            since = settled
        counts = intake.counts_by_second(ex, since)
        changed = sorted(s for s, n in counts.items() if self._counts.get(s) != n)
        for seconds in _slices(changed, counts):
            reused |= self._take(
                intake.taken_in(ex, seconds[0], seconds[-1] + 1, int(in_force), seconds)
            )
        reused |= self.pending()
        if reused:
            self._hold(reused)
        self._counts = {s: n for s, n in counts.items() if s >= settled - self._margin_s}
        self.ledger[CURSOR] = str(int(now)).encode()
        return reused

    def _settled_past(
        self, ex: Executor, since: int, until: int, in_force: int
    ) -> set[tuple[str, str]]:
        """Feeds every row taken in from ``since`` to ``until``, a slice of minutes at a time."""
        counts = intake.counts_by_minute(ex, since, until)
        reused: set[tuple[str, str]] = set()
        for minutes in _slices(sorted(counts), counts):
            first, end = max(since, minutes[0]), min(until, minutes[-1] + 60)
            reused |= self._take(intake.taken_in(ex, first, end, in_force))
        return reused

    def _take(self, rows: list[intake.IntakeRow]) -> set[tuple[str, str]]:
        return take(self.ledger, ((r.provider_id, r.produce_id, r.event_id) for r in rows))

    def pending(self) -> set[tuple[str, str]]:
        """The ids found reused whose alerts were not settled yet."""
        held = self.ledger.get(PENDING)
        return {pair_of(key) for key in held.split(b"\n")} if held else set()

    def found(self, pairs: set[tuple[str, str]]) -> None:
        """These ids were judged reused on the event store this round."""
        self._found |= pairs

    def settle(self) -> None:
        """The round's alerts are published: the ids judged are no longer pending (one whose
        second output is not yet visible in ``produce_ids`` stays)."""
        if self._found:
            self._hold(self.pending() - self._found)
            self._found = set()

    def _hold(self, pairs: set[tuple[str, str]]) -> None:
        self.ledger[PENDING] = b"\n".join(ledger_key(p, i) for p, i in sorted(pairs))


def _slices(units: list[int], counts: dict[int, int]) -> list[list[int]]:
    """Consecutive runs of ``units`` (seconds or minutes) holding at most SLICE_ROWS rows each
    (a unit alone may hold more)."""
    out: list[list[int]] = []
    rows = 0
    for u in units:
        if not out or rows + counts[u] > SLICE_ROWS:
            out.append([])
            rows = 0
        out[-1].append(u)
        rows += counts[u]
    return out
