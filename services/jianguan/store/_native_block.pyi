from jianguan.contracts._wire import Schema

class NativeBlock:
    def __init__(self, schema: Schema, encodings: bytes, sources: bytes) -> None: ...
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
