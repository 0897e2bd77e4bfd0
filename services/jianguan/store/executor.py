"""The storage port: what the project needs from a ClickHouse engine, and its adapters.

Two adapters: ``ServerExecutor`` (a ClickHouse server over the native protocol, clickhouse-driver)
and ``ChdbExecutor`` (chDB, the modern engine in-process), so the same SQL is tested on both.
"""

from __future__ import annotations

import dataclasses
import json
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, quote, unquote, urlsplit

from clickhouse_driver import Client, errors

from jianguan.store.cluster_ddl import on_cluster
from jianguan.store.native_insert import NativeInserter


class SchemaMismatch(RuntimeError):
    """The server's table is not the one the data was encoded for (a deployment problem, never
    the data's fault)."""


# Server error codes that mean "these values cannot be written" (parse errors, type mismatch,
# values out of range, strings too large, an encoded block shorter than it says), as opposed to
# "the server cannot write now".
_DATA_ERROR_CODES = frozenset({6, 26, 27, 33, 38, 41, 53, 69, 70, 72, 131, 321})
# What clickhouse-driver raises while encoding values it cannot represent, before sending them.
_ENCODING_ERRORS = (
    errors.TypeMismatchError, TypeError, ValueError, AttributeError, OverflowError, struct.error,
)  # fmt: skip


# How a cluster's server says its insert failed between it and another server (a shard's
# replica killed mid-insert gives "Cannot read all data", code 33, like a truncated block).
_BETWEEN_SERVERS = ("while receiving packet from", "Insertion status:", "There was an error on [")


def refuses_data(exc: BaseException) -> bool:
    """``exc`` (from an insert) says the rows themselves cannot be written: inserting them again
    fails again. False for everything else (the server down or busy, the network, another
    server of a cluster away, a schema that differs): those are retried, never blamed on a
    record."""
    if isinstance(exc, errors.ServerException):
        return exc.code in _DATA_ERROR_CODES and not any(
            says in str(exc.message) for says in _BETWEEN_SERVERS
        )
    if isinstance(exc, SchemaMismatch | errors.NetworkError | errors.SocketTimeoutError | OSError):
        return False
    return isinstance(exc, _ENCODING_ERRORS)


class Executor(Protocol):
    database: str
    # The ClickHouse cluster the server belongs to (ClickHouseUrl.cluster); None on one server.
    cluster: str | None

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement in ``database``; rows for a SELECT."""
        ...

    def insert_columns(self, table: str, columns: tuple[str, ...], data: list[list[Any]]) -> None:
        """Insert column-major ``data``; returns when the engine has accepted the block."""
        ...

    def close(self) -> None: ...


_CLUSTER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


@dataclass(frozen=True, slots=True)
class ClickHouseUrl:
    """clickhouse://user:password@host:port/database[?http_port=N][&cluster=NAME]: the native
    protocol's port, and the HTTP interface's when the server has one (the event store's encoded
    inserts use it; without it the store sends values through the native protocol). ``cluster``:
    the server is one of the ClickHouse cluster NAME (its ``remote_servers``): tables are
    replicated and sharded by provider (``store.cluster_ddl``), inserts wait for the shards."""

    host: str
    port: int
    user: str
    password: str
    database: str
    http_port: int | None = None
    cluster: str | None = None

    @classmethod
    def parse(cls, url: str) -> ClickHouseUrl:
        parts = urlsplit(url)
        if parts.scheme != "clickhouse":
            raise ValueError(f"expected clickhouse://user:password@host:port/db, got {url!r}")
        query = parse_qs(parts.query)
        unknown = sorted(set(query) - {"http_port", "cluster"})
        if unknown:
            raise ValueError(f"unknown parameters in a ClickHouse URL: {', '.join(unknown)}")
        http_port = query.get("http_port", [None])[-1]
        if http_port is not None and not (http_port.isdigit() and 0 < int(http_port) < 65536):
            raise ValueError(f"http_port must be a port number, got {http_port!r}")
        cluster = query.get("cluster", [None])[-1]
        if cluster is not None and not _CLUSTER_NAME.fullmatch(cluster):
            raise ValueError(f"cluster must be a ClickHouse cluster's name, got {cluster!r}")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 9000,
            user=unquote(parts.username or "default"),
            password=unquote(parts.password or ""),
            database=parts.path.lstrip("/") or "jianguan",
            http_port=None if http_port is None else int(http_port),
            cluster=cluster,
        )

    def with_database(self, database: str) -> ClickHouseUrl:
        return dataclasses.replace(self, database=database)

    def _query(self) -> str:
        query = {"http_port": self.http_port, "cluster": self.cluster}
        text = "&".join(f"{k}={v}" for k, v in query.items() if v is not None)
        return f"?{text}" if text else ""

    def __str__(self) -> str:
        """Without the password: safe to print and log."""
        return f"clickhouse://{self.user}@{self.host}:{self.port}/{self.database}{self._query()}"

    def secret_url(self) -> str:
        """With the password: for handing to a child process, never for printing."""
        return (
            f"clickhouse://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@{self.host}:{self.port}/{self.database}{self._query()}"
        )


# Every session with a cluster: an insert into a Distributed table returns only once each shard
# has written its rows (the sinks commit offsets after that), never from a local queue; a
# subquery of a distributed query (IN, JOIN) over another Distributed table runs once over the
# whole cluster and goes to every shard with its answer (GLOBAL), as on one server. ('local'
# would be cheaper where both sides are one provider's, but wrong for comparisons across
# providers, such as a report card's peers.) Reads and inserts go to each shard's replicas in
# the order the cluster lists them, so a read follows the writes before it (a replica that has
# not fetched a part yet is read only when the ones before it are down); a read-only user's
# profile must set these itself (it may not change settings).
CLUSTER_SETTINGS: dict[str, Any] = {
    "insert_distributed_sync": 1,
    "distributed_product_mode": "global",
    "load_balancing": "in_order",
}

# (host, port, user) → whether that user's profile is read-only (ServerExecutor(read_only=True)).
_PROFILE_READ_ONLY: dict[tuple[str, int, str], bool] = {}


class ServerExecutor:
    """A ClickHouse server. Not thread-safe: one executor per thread."""

    def __init__(
        self, url: ClickHouseUrl, create_database: bool = False, read_only: bool = False
    ) -> None:
        """``read_only``: every query of this session runs with ``readonly=1`` (the server
        refuses writes and setting changes), whatever the user may do otherwise."""
        self.database = url.database
        self.cluster = url.cluster
        if create_database:
            admin = Client(url.host, port=url.port, user=url.user, password=url.password)
            try:
                admin.execute(
                    f"CREATE DATABASE IF NOT EXISTS `{url.database}`{on_cluster(url.cluster)}"
                )
            finally:
                admin.disconnect()
        self._client = Client(
            url.host,
            port=url.port,
            user=url.user,
            password=url.password,
            database=url.database,
            settings={"strings_as_bytes": False},
        )
        profile_read_only = (read_only or url.cluster is not None) and self._user_is_read_only(url)
        if url.cluster is not None and not profile_read_only:
            self._client.settings.update(CLUSTER_SETTINGS)
        if read_only and not profile_read_only:
            self._client.settings["readonly"] = 1
        self._native: NativeInserter | None = None
        if url.http_port is not None:
            self._native = NativeInserter(
                url.host, url.http_port, url.user, url.password, url.database,
                CLUSTER_SETTINGS if url.cluster is not None else {},
            )  # fmt: skip
        # per table, the column types an encoded insert was checked against
        self._checked: dict[str, dict[str, str]] = {}

    def _user_is_read_only(self, url: ClickHouseUrl) -> bool:
        """Whether the user's profile already makes it read-only (then it may not set readonly
        again, nor needs to): asked once per user and server a process meets, not per
        session (the console opens one per page)."""
        key = (url.host, url.port, url.user)
        known = _PROFILE_READ_ONLY.get(key)
        if known is None:
            rows = self.execute("SELECT value FROM system.settings WHERE name = 'readonly'")
            known = _PROFILE_READ_ONLY[key] = bool(rows) and str(rows[0][0]) != "0"
        return known

    def __enter__(self) -> ServerExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        result = self._client.execute(sql, params)
        return list(result) if isinstance(result, list) else []

    def execute_bytes(
        self, sql: str, params: dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """Like execute, but String columns come back as bytes (for binary payloads)."""
        result = self._client.execute(sql, params, settings={"strings_as_bytes": True})
        return list(result) if isinstance(result, list) else []

    def iterate_bytes(
        self, sql: str, params: dict[str, Any] | None = None
    ) -> Iterator[tuple[Any, ...]]:
        """Like execute_bytes, streamed: rows as the server sends them, never all in memory."""
        settings = {"strings_as_bytes": True, "max_block_size": 10_000}
        yield from self._client.execute_iter(sql, params, settings=settings)

    def insert_columns(self, table: str, columns: tuple[str, ...], data: list[list[Any]]) -> None:
        self._client.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES", data, columnar=True
        )

    def column_types(self, table: str) -> dict[str, str]:
        """Each column's ClickHouse type, as the server names it."""
        return {str(r[0]): str(r[1]) for r in self.execute(f"DESCRIBE TABLE {table}")}

    @property
    def takes_encoded(self) -> bool:
        """Whether ``insert_encoded`` can reach the server (its URL names an HTTP port)."""
        return self._native is not None

    def insert_encoded(
        self, table: str, columns: tuple[str, ...], types: tuple[str, ...], rows: int,
        data: list[bytes],
    ) -> None:  # fmt: skip
        """Insert one block whose columns are already in the native encoding (``data``: one
        bytes per column), as ``FORMAT Native`` over HTTP; returns when the server has written
        it. Refuses (inserting nothing) when the server's column types differ from ``types``:
        checked on the first insert into ``table``, as the event store sink checks the whole
        table before it starts."""
        if self._native is None:
            raise SchemaMismatch("encoded blocks need the server's HTTP port in the URL")
        found = self._checked.get(table)
        if found is None:
            found = self._checked[table] = self.column_types(table)
        expected = dict(zip(columns, types, strict=True))
        differing = sorted(c for c, t in expected.items() if found.get(c) != t)
        if differing:
            raise SchemaMismatch(f"{table} does not have the expected types of {differing}")
        self._native.insert(table, columns, types, rows, data)

    def close(self) -> None:
        self._client.disconnect()
        if self._native is not None:
            self._native.close()


def literal(value: Any) -> str:
    """A ClickHouse SQL literal for a Python value (str, bytes, numbers, lists, tuples)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return (
            "'"
            + "".join(
                chr(b) if 0x20 <= b < 0x7F and b not in (0x27, 0x5C) else f"\\x{b:02x}"
                for b in value
            )
            + "'"
        )
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(literal(v) for v in value) + ")"
    raise TypeError(f"no ClickHouse literal for {type(value).__name__}")


class ChdbExecutor:
    """chDB in-process (tests and forward-compatibility checks)."""

    def __init__(self, database: str, path: str | None = None) -> None:
        from chdb import session  # a test/dev dependency, imported only when used

        self.database = database
        self.cluster: str | None = None
        self._session = session.Session(path) if path else session.Session()
        self._session.query(f"CREATE DATABASE IF NOT EXISTS `{database}`")
        self._session.query(f"USE `{database}`")

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        if params:
            sql = sql % {k: literal(v) for k, v in params.items()}
        res = self._session.query(sql, "JSONCompact")
        text = res.bytes() if hasattr(res, "bytes") else bytes(res)
        if not text.strip():
            return []
        return [tuple(r) for r in json.loads(text)["data"]]

    def insert_columns(self, table: str, columns: tuple[str, ...], data: list[list[Any]]) -> None:
        rows = zip(*data, strict=True)
        values = ",".join(literal(tuple(r)) for r in rows)
        self._session.query(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}")

    def close(self) -> None:
        self._session.close()
