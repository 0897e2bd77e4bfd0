"""Bookkeeping for at-least-once delivery (pure): which alert records are finished, so offsets
are committed only behind them, and which (receiver, alert) pairs need no further delivery."""

from __future__ import annotations

from collections import OrderedDict

from jianguan.contracts import pb


class OffsetTracker:
    """Per partition: records in offset order with their unfinished deliveries. The commit point
    is just after the longest finished prefix, so a restart redelivers nothing that was not
    finished and skips nothing that was not."""

    def __init__(self) -> None:
        self._open: dict[int, OrderedDict[int, int]] = {}
        self._commit: dict[int, int] = {}
        self._reported: dict[int, int] = {}

    def add(self, partition: int, offset: int, deliveries: int) -> None:
        self._open.setdefault(partition, OrderedDict())[offset] = deliveries
        self._advance(partition)

    def finish(self, partition: int, offset: int) -> None:
        records = self._open[partition]
        records[offset] -= 1
        self._advance(partition)

    def _advance(self, partition: int) -> None:
        records = self._open[partition]
        while records:
            offset, left = next(iter(records.items()))
            if left > 0:
                break
            records.popitem(last=False)
            self._commit[partition] = offset + 1

    def committable(self) -> dict[int, int]:
        """Partitions whose commit point moved since the last call: partition -> next offset."""
        moved = {p: o for p, o in self._commit.items() if self._reported.get(p) != o}
        self._reported.update(moved)
        return moved


class Seen:
    """(receiver, alert id) pairs delivered, given up on, or in flight: never sent again."""

    def __init__(self, done: set[tuple[str, str]] | None = None) -> None:
        self._pairs = set(done or ())

    def claim(self, receiver: str, alert_id: str) -> bool:
        key = (receiver, alert_id)
        if key in self._pairs:
            return False
        self._pairs.add(key)
        return True

    def claimed(self, receiver: str, alert_id: str) -> bool:
        return (receiver, alert_id) in self._pairs


def delivery_key(alert: pb.cases_pb2.Alert) -> str:
    """What a receiver is sent once: an alert, or its withdrawal (the rules retracted the miss
    it reported, e.g. a late event showed the obligation met in time)."""
    return alert.alert_id + ("#withdrawn" if alert.retracted else "")
