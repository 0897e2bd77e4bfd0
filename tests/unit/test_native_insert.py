"""The Native-format body of an encoded insert, the errors a failed HTTP insert becomes, and the
ClickHouse URL that names the HTTP port (the server itself: tests/integration/test_store.py)."""

from __future__ import annotations

import pytest
from clickhouse_driver import errors

from jianguan.store.executor import ClickHouseUrl, refuses_data
from jianguan.store.native_insert import native_body, server_error


def test_a_block_is_its_counts_then_name_type_and_data_per_column() -> None:
    body = b"".join(native_body(("a", "bb"), ("UInt8", "String"), 2, [b"\x01\x02", b"\x01x\x00"]))
    assert body == (
        b"\x02\x02"  # columns, rows
        + b"\x01a\x05UInt8\x01\x02"
        + b"\x02bb\x06String\x01x\x00"
    )


def test_counts_beyond_one_byte_are_varints() -> None:
    head = next(native_body(("a",), ("UInt8",), 300, [bytes(300)]))
    assert head == b"\x01\xac\x02"  # 300 = 0b10_0101100


def test_a_column_without_its_data_is_refused() -> None:
    with pytest.raises(ValueError, match="one name, type and data per column"):
        list(native_body(("a", "b"), ("UInt8", "UInt8"), 1, [b"\x01"]))


@pytest.mark.parametrize(
    ("body", "header", "code"),
    [
        (b"Code: 27, e.displayText() = DB::Exception: Cannot parse input", None, 27),
        (b"Code: 27, e.displayText() = DB::Exception: x", "53", 53),  # the header wins
        (b"Service Unavailable", None, None),
    ],
)
def test_a_failed_insert_carries_the_servers_code(
    body: bytes, header: str | None, code: int | None
) -> None:
    exc = server_error(500, body, header)
    assert isinstance(exc, errors.ServerException)
    assert exc.code == code


def test_data_errors_from_http_are_the_records_fault_and_the_rest_are_not() -> None:
    assert refuses_data(server_error(500, b"Code: 27, DB::Exception: Cannot parse", None))
    assert not refuses_data(server_error(500, b"Code: 241, Memory limit exceeded", None))
    assert not refuses_data(server_error(503, b"", None))
    assert not refuses_data(ConnectionRefusedError())
    # a cluster's server whose shard replica died mid-insert: the network, not the rows
    assert not refuses_data(server_error(500, (
        b"Code: 33, DB::Exception: Cannot read all data. Bytes read: 0: while receiving packet"
        b" from 127.0.0.1:46259: Insertion status:\nWrote 1 blocks and 2200 rows on shard 0"
    ), None))  # fmt: skip


def test_the_url_names_the_http_port_and_keeps_it() -> None:
    url = ClickHouseUrl.parse("clickhouse://w:p%40ss@127.0.0.1:9001/jg?http_port=8124")
    assert (url.port, url.http_port, url.password) == (9001, 8124, "p@ss")
    assert str(url) == "clickhouse://w@127.0.0.1:9001/jg?http_port=8124"
    assert ClickHouseUrl.parse(url.secret_url()) == url
    assert url.with_database("other").http_port == 8124
    plain = ClickHouseUrl.parse("clickhouse://w:p@127.0.0.1:9001/jg")
    assert plain.http_port is None
    assert str(plain) == "clickhouse://w@127.0.0.1:9001/jg"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("clickhouse://w@h:1/db?http_port=x", "http_port must be a port number"),
        ("clickhouse://w@h:1/db?http_port=70000", "http_port must be a port number"),
        ("clickhouse://w@h:1/db?secure=1", "unknown parameters in a ClickHouse URL: secure"),
    ],
)
def test_a_bad_url_parameter_is_named(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ClickHouseUrl.parse(url)
