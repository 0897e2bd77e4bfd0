"""The one thing pyproject.toml cannot declare stably: the native extensions, plain C against the
CPython API. ``jianguan.contracts._wire`` scans EventBatch records (see
services/jianguan/contracts/wire.py); ``jianguan.store._native_block`` encodes the event store's
rows for ClickHouse while the same scanner walks them (wire_scan.c is compiled into both, with
hidden symbols). Optional: without a C compiler the package installs and runs on its Python
reference paths (slower), as tests/unit/test_without_native.py checks."""

from setuptools import Extension, setup

CONTRACTS = "services/jianguan/contracts"
STORE = "services/jianguan/store"
SCANNER = [f"{CONTRACTS}/wire_scan.c"]
SCANNER_HEADERS = [f"{CONTRACTS}/wire_scan.h", f"{CONTRACTS}/_wire_constants.h"]
FLAGS = ["-O2", "-std=c11", "-fvisibility=hidden"]

setup(
    ext_modules=[
        Extension(
            "jianguan.contracts._wire",
            sources=[f"{CONTRACTS}/_wire.c", *SCANNER],
            depends=SCANNER_HEADERS,
            extra_compile_args=FLAGS,
            optional=True,
        ),
        Extension(
            "jianguan.store._native_block",
            sources=[f"{STORE}/_native_block.c", *SCANNER],
            depends=[*SCANNER_HEADERS, f"{STORE}/_native_block_constants.h"],
            extra_compile_args=FLAGS,
            optional=True,
        ),
    ]
)
