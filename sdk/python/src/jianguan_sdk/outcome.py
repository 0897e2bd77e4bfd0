"""What became of one reported event, said so a person can act on it."""

from __future__ import annotations

from dataclasses import dataclass

from jianguan_sdk import pb

DELIVERED = frozenset({"ACCEPTED", "DUPLICATE"})


class InvalidEvent(ValueError):
    """The event breaks the contract; raised by ``report`` before anything is spooled or sent."""

    def __init__(self, event_id: str, status: str, field_path: str, reason: str) -> None:
        self.event_id, self.status, self.field_path, self.reason = (
            event_id,
            status,
            field_path,
            reason,
        )
        where = f" at {field_path}" if field_path else ""
        super().__init__(f"event {event_id!r} is {status}{where}: {reason}")


@dataclass(frozen=True, slots=True)
class Outcome:
    """The gateway's answer for one event. ``ok`` means stored exactly once (now or before)."""

    event_id: str
    service_id: str
    sequence: int
    status: str  # ACCEPTED, DUPLICATE, INVALID, PERSONAL_INFORMATION, FORBIDDEN, …
    field_path: str = ""
    reason: str = ""
    stream_id: str = ""

    @property
    def ok(self) -> bool:
        return self.status in DELIVERED

    def __str__(self) -> str:
        where = f" at {self.field_path}" if self.field_path else ""
        why = f"{where}: {self.reason}" if self.reason else ""
        chain = f"{self.service_id}@{self.stream_id}" if self.stream_id else self.service_id
        return f"{chain} #{self.sequence} ({self.event_id}): {self.status}{why}"


def status_name(status: int) -> str:
    return pb.ItemStatus.Name(pb.ingest_pb2.ItemStatus.ValueType(status)).removeprefix(
        "ITEM_STATUS_"
    )
