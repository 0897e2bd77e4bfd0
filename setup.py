"""The one thing pyproject.toml cannot declare stably: the native EventBatch scanner, plain C
against the CPython API (see services/jianguan/contracts/wire.py)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "jianguan.contracts._wire",
            sources=["services/jianguan/contracts/_wire.c"],
            extra_compile_args=["-O2"],
        )
    ]
)
