"""The numbers the event store's native encoder (``_native_block.c``) and ``store.processor``
share. Python is the source: ``python -m jianguan.store.native_constants`` writes the C header
``_native_block_constants.h``; ``make lint`` fails when the committed header is stale."""

from __future__ import annotations

import sys

from jianguan.contracts.wire_constants import c_header

# ClickHouse native encodings of the event store's column types.
CT_NONE, CT_STRING, CT_U8, CT_U16, CT_U32, CT_U64, CT_F32, CT_ARR_STRING, CT_ARR_U8 = range(9)
# Where a column's value comes from in a native block.
S_FIELD, S_KIND, S_PAYLOAD, S_PROVIDER, S_RECEIVED, S_INGESTED, S_BATCH, S_PARTITION, S_OFFSET = (
    range(9)
)


def header() -> str:
    return c_header(sys.modules[__name__], ("CT_", "S_"))


if __name__ == "__main__":
    sys.stdout.write(header())
