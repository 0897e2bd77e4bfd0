"""Where every chain stands, shared by ingest processes through the real broker: what one
process recorded is known to another once it caught up, a process started later reads it all,
the later record wins, and one chain's batches are held one after another."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import pytest

from jianguan.domain.chain_heads import EMPTY, Head
from jianguan.ingest.chain_book import ChainBook
from jianguan.runtime.broker import KafkaCluster

pytestmark = pytest.mark.integration


def _head(seq: int) -> Head:
    return Head(seq, hashlib.sha256(str(seq).encode()).digest(), f"e{seq}")


def test_heads_recorded_by_one_process_are_known_to_the_others(broker: KafkaCluster) -> None:
    namespace = f"book-{uuid.uuid4().hex[:8]}"

    async def run() -> None:
        a, b = ChainBook(broker.bootstrap, namespace), ChainBook(broker.bootstrap, namespace)
        await a.start()
        await b.start()
        try:
            assert b.head("acme-ai", "chat", "") == EMPTY
            assert await a.record("acme-ai", {("chat", ""): _head(5), ("chat", "pod-2"): _head(2)})
            assert await a.record("beta-ai", {("chat", ""): _head(9)})
            await b.caught_up()  # read-your-writes: everything acknowledged before the call
            assert b.head("acme-ai", "chat", "") == _head(5)
            assert b.heads("acme-ai") == {("chat", ""): _head(5), ("chat", "pod-2"): _head(2)}
            # the later record wins, in every process, whoever wrote it
            assert await b.record("acme-ai", {("chat", ""): _head(6)})
            await a.caught_up()
            assert a.head("acme-ai", "chat", "") == _head(6)
            assert b.head("acme-ai", "chat", "") == _head(6)
        finally:
            await a.stop()
            await b.stop()
        # a process started later knows every chain as soon as it started
        c = ChainBook(broker.bootstrap, namespace)
        await c.start()
        try:
            assert c.heads("acme-ai") == {("chat", ""): _head(6), ("chat", "pod-2"): _head(2)}
            assert c.heads("beta-ai") == {("chat", ""): _head(9)}
            assert c.heads("nobody") == {}
        finally:
            await c.stop()

    asyncio.run(run())


def test_the_batches_of_one_chain_are_held_one_after_another(broker: KafkaCluster) -> None:
    namespace = f"book-{uuid.uuid4().hex[:8]}"

    async def run() -> list[str]:
        book = ChainBook(broker.bootstrap, namespace)
        await book.start()
        order: list[str] = []
        first_in = asyncio.Event()

        async def first() -> None:
            async with book.hold("acme-ai", [("chat", ""), ("image", "")]):
                order.append("first in")
                first_in.set()
                await book.record("acme-ai", {("chat", ""): _head(1)})
                order.append("first out")

        async def second() -> None:
            await first_in.wait()
            async with book.hold("acme-ai", [("image", ""), ("chat", "")]):
                order.append(f"second in at {book.head('acme-ai', 'chat', '').sequence}")

        async def other() -> None:
            await first_in.wait()
            async with book.hold("acme-ai", [("video", "")]):  # another chain does not wait
                order.append("other")

        try:
            await asyncio.gather(first(), second(), other())
        finally:
            await book.stop()
        return order

    order = asyncio.run(run())
    assert order.index("first out") < order.index("second in at 1")
    assert order.index("other") < order.index("first out")
