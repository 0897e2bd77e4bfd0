"""Real servers, started once per test session on free loopback ports, always stopped."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from jianguan.accounts.registry import Provider, ProviderRegistry, token_digest
from jianguan.contracts import topics
from jianguan.gateway.server import Gateway
from jianguan.kafka_io.admin import ensure_topics
from jianguan.runtime.broker import KafkaCluster
from jianguan.runtime.clickhouse import ClickHouseServer
from jianguan.store.executor import ClickHouseUrl, ServerExecutor
from jianguan.store.migrate import migrate
from jianguan.store.outcomes import OutcomeBatch
from jianguan.store.sink import StoreSink, event_store_sink
from jianguan.store.writer import BatchWriter
from jianguan_sdk.client import IngestClient
from tests.helpers import generation

T = TypeVar("T")
TOKENS = {"acme-ai": "tok-acme", "beta-ai": "tok-beta", "gamma-ai": "tok-gamma"}


class LoopThread:
    """An asyncio loop in a thread, so sync tests can drive async servers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return self.submit(coro).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@dataclass
class Spine:
    """Gateway and sinks on a per-test topic namespace and database."""

    loop: LoopThread
    gateway: Gateway
    url: ClickHouseUrl
    topic: str
    bootstrap: str
    namespace: str

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.gateway.port}"

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        ex = ServerExecutor(self.url)
        try:
            return ex.execute(sql, params)
        finally:
            ex.close()

    def stored(self, provider: str | None = None) -> int:
        """Rows in the event store as written (never through ``FINAL``): a row stored twice
        counts twice."""
        if provider is None:
            return int(self.query("SELECT count() FROM events")[0][0])
        return int(
            self.query("SELECT count() FROM events WHERE provider_id = %(p)s", {"p": provider})[0][
                0
            ]
        )

    def wait_stored(self, expected: int, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        n = self.stored()
        while n < expected and time.monotonic() < deadline:
            time.sleep(0.1)
            n = self.stored()
        return n

    def barrier(self, provider: str, timeout: float = 30.0) -> str:
        """Sends a marker event as ``provider`` (through the gateway) and waits until it is
        stored; returns its event id. A provider's events share one partition of the log, which
        the sink writes in order, so whatever was accepted for that provider before the marker
        is stored by then: what is absent after a barrier was never going to arrive."""
        marker = f"barrier-{uuid.uuid4().hex[:12]}"
        event = generation(marker, service=f"svc-{marker}")  # a chain of its own

        async def send() -> int:
            async with IngestClient(self.target, token=TOKENS[provider]) as client:
                return (await client.publish_batch([event])).accepted

        assert self.loop.run(send()) == 1
        deadline = time.monotonic() + timeout
        sql = "SELECT count() FROM events WHERE event_id = %(m)s"
        while self.query(sql, {"m": marker}) == [(0,)]:
            assert time.monotonic() < deadline, "the barrier was never stored"
            time.sleep(0.1)
        return marker


def verified_chains(url: ClickHouseUrl) -> list[str]:
    """``jianguan verify-chain`` over the store, which must find every chain intact: its lines
    (``provider/service@stream: intact``)."""
    proc = subprocess.run(
        [sys.executable, "-m", "jianguan.cli", "verify-chain", "--clickhouse", url.secret_url(),
         "--verbose-ok"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.splitlines()


def registry() -> ProviderRegistry:
    return ProviderRegistry(
        [Provider(pid, pid, token_sha256=token_digest(tok)) for pid, tok in TOKENS.items()]
    )


def new_sink(spine_bootstrap: str, topic: str, url: ClickHouseUrl, group: str) -> StoreSink:
    return event_store_sink(spine_bootstrap, topic, group, url, max_wait_s=0.1)


@pytest.fixture
def database(clickhouse: ClickHouseServer) -> ClickHouseUrl:
    url = clickhouse.url("writer", f"t_{uuid.uuid4().hex[:12]}")
    ex = ServerExecutor(url, create_database=True)
    try:
        migrate(ex)
    finally:
        ex.close()
    return url


@pytest.fixture
def spine(broker: KafkaCluster, database: ClickHouseUrl) -> Iterator[Spine]:
    """Gateway, event-store sink and outcome sink on per-test topics and database."""
    namespace = f"t{uuid.uuid4().hex[:10]}"
    topic = topics.topic_name(topics.EVENTS, namespace)
    outcomes_topic = topics.topic_name(topics.OUTCOMES, namespace)
    ensure_topics(broker.bootstrap, [topic, outcomes_topic], topics.PARTITIONS)
    loop = LoopThread()
    gateway = Gateway(registry(), broker.bootstrap, namespace)
    sink = new_sink(broker.bootstrap, topic, database, f"store-{topic}")
    outcome_sink = StoreSink(
        broker.bootstrap,
        outcomes_topic,
        f"outcomes-{topic}",
        lambda: BatchWriter(ServerExecutor(database)),
        OutcomeBatch,
        max_wait_s=0.1,
    )
    tasks: list[Future[None]] = []
    try:
        loop.run(gateway.start())
        for s in (sink, outcome_sink):
            loop.run(s.start())
            tasks.append(loop.submit(s.run()))
        yield Spine(loop, gateway, database, topic, broker.bootstrap, namespace)
    finally:
        sink.request_stop()
        outcome_sink.request_stop()
        try:
            for task in tasks:
                loop.run(_wait(task), timeout=40)
        finally:
            loop.run(gateway.stop(grace=1))
            loop.close()


async def _wait(fut: Future[None]) -> None:
    await asyncio.wrap_future(fut)


@pytest.fixture(scope="module", params=["clickhouse-18.16", "chdb"])
def scenario_store(
    request: pytest.FixtureRequest,
    clickhouse: ClickHouseServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Any]]:
    """The scenario library stored (events, case facts, alerts) on the Debian server and on chDB
    (the modern engine): (engine name, executor)."""
    from jianguan.store.executor import ChdbExecutor
    from tests.scenarios.store import load_into

    name = f"sc_{uuid.uuid4().hex[:10]}"
    ex: Any
    if request.param == "chdb":
        ex = ChdbExecutor(name, str(tmp_path_factory.mktemp("chdb")))
    else:
        ex = ServerExecutor(clickhouse.url("writer", name), create_database=True)
    try:
        load_into(ex)
        yield request.param, ex
    finally:
        ex.close()
