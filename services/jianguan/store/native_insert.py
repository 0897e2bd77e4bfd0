"""Inserts of blocks already in ClickHouse's Native format, over the server's HTTP interface.

The event store's rows are encoded natively while they are scanned (``store/_native_block.c``);
this sends them as ``INSERT … FORMAT Native``, ClickHouse's public way to take such data (the
native TCP protocol would need a driver's private calls). The server answers after the insert
is written, so a 200 means stored: the sink commits offsets only after it.

Errors are raised as clickhouse-driver's, so ``executor.refuses_data`` judges both paths alike:
the server's exception code as ``errors.ServerException``, the network as ``OSError`` or
``errors.NetworkError``.
"""

from __future__ import annotations

import base64
import http.client
import re
from collections.abc import Iterator, Mapping
from urllib.parse import urlencode

from clickhouse_driver import errors

from jianguan.contracts.codec import varint

# ClickHouse's default for a query's send and receive timeouts.
TIMEOUT_S = 300.0
_CODE = re.compile(rb"Code: (\d+)")


def _string(s: str) -> bytes:
    raw = s.encode()
    return varint(len(raw)) + raw


def native_body(
    columns: tuple[str, ...], types: tuple[str, ...], rows: int, data: list[bytes]
) -> Iterator[bytes]:
    """One block in the Native format: the number of columns and rows, then per column its
    name, its type and its data (``data``: one bytes per column, already encoded)."""
    if not len(columns) == len(types) == len(data):
        raise ValueError("one name, type and data per column")
    yield varint(len(columns)) + varint(rows)
    for name, type_, encoded in zip(columns, types, data, strict=True):
        yield _string(name) + _string(type_)
        yield encoded


def server_error(status: int, body: bytes, code_header: str | None) -> errors.ServerException:
    """The error a failed HTTP query answered, with ClickHouse's code when it gave one (a
    header since 19.x; in the body's ``Code: N`` on every version)."""
    code: int | None = int(code_header) if code_header and code_header.isdigit() else None
    if code is None:
        found = _CODE.search(body)
        code = int(found.group(1)) if found else None
    text = body.decode(errors="replace").strip() or f"HTTP {status}"
    return errors.ServerException(text, code)


class NativeInserter:
    """One keep-alive HTTP connection to a ClickHouse server. Not thread-safe."""

    def __init__(
        self, host: str, port: int, user: str, password: str, database: str,
        settings: Mapping[str, object] | None = None,
    ) -> None:  # fmt: skip
        """``settings``: ClickHouse settings sent with every insert."""
        self._host, self._port, self._database = host, port, database
        self._settings = {k: str(v) for k, v in (settings or {}).items()}
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self._auth = f"Basic {token}"
        self._conn: http.client.HTTPConnection | None = None

    def insert(
        self,
        table: str,
        columns: tuple[str, ...],
        types: tuple[str, ...],
        rows: int,
        data: list[bytes],
    ) -> None:
        """Insert one block; returns when the server has written it."""
        query = f"INSERT INTO {table} ({', '.join(columns)}) FORMAT Native"
        parts = list(native_body(columns, types, rows, data))
        path = "/?" + urlencode({"database": self._database, "query": query, **self._settings})
        headers = {
            "Authorization": self._auth,
            "Content-Length": str(sum(len(p) for p in parts)),
            "Content-Type": "application/octet-stream",
        }
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self._host, self._port, timeout=TIMEOUT_S)
        try:
            self._conn.request("POST", path, body=iter(parts), headers=headers)
            response = self._conn.getresponse()
            body = response.read()
        except http.client.HTTPException as exc:  # not an OSError: a broken answer
            self.close()
            raise errors.NetworkError(f"ClickHouse HTTP: {type(exc).__name__}: {exc}") from exc
        except OSError:
            self.close()
            raise
        if response.status != 200:
            if response.will_close:
                self.close()
            code = response.getheader("X-ClickHouse-Exception-Code")
            raise server_error(response.status, body, code)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
