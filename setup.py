"""The one thing pyproject.toml cannot declare stably: the native EventBatch scanner, plain C
against the CPython API (see services/jianguan/contracts/wire.py). Optional: without a C
compiler the package installs and runs on its Python reference paths (slower), as
tests/unit/test_without_native.py checks."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "jianguan.contracts._wire",
            sources=["services/jianguan/contracts/_wire.c"],
            depends=["services/jianguan/contracts/_wire_constants.h"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ]
)
