from typing import Any

# (stream_id, sequence, prev_hash) of each event
Links = list[tuple[str, int, bytes]]
Scan = tuple[
    str, list[str], list[str], list[tuple[int, str]], list[int], list[int], list[int], int, Links
]

class Schema:
    def __init__(
        self,
        messages: list[list[tuple[int, tuple[Any, ...]]]],
        versions: int,
        columns: int = ...,
    ) -> None: ...
    def scan(
        self,
        raw: bytes,
        now_s: float,
        max_future_s: float,
        max_age_s: float,
        max_event_bytes: int,
        /,
    ) -> Scan | None: ...
    def events(self, raw: bytes, /) -> tuple[str, list[tuple[int, bytes]]] | None: ...

def outline(raw: bytes, /) -> tuple[str, int] | None: ...
