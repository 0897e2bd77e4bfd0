from typing import Any

Scan = tuple[str, list[str], list[str], list[tuple[int, str]], list[int], list[int], list[int], int]

class Schema:
    def __init__(
        self,
        messages: list[list[tuple[int, tuple[Any, ...]]]],
        versions: int,
        defaults: tuple[Any, ...],
        encodings: bytes = ...,
        sources: bytes = ...,
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
    def native_block(self) -> NativeBlock: ...

class NativeBlock:
    @property
    def rows(self) -> int: ...
    def add(
        self,
        raw: bytes,
        provider_id: str,
        received_s: int,
        ingested_s: int,
        partition: int,
        offset: int,
        /,
    ) -> int | None: ...
    def encoded(self) -> list[bytes]: ...

def outline(raw: bytes, /) -> tuple[str, int] | None: ...
