"""mTLS: the provider is the client certificate's subject; nothing else gets in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from jianguan.accounts.registry import Provider, ProviderRegistry, token_digest
from jianguan.contracts import pb, topics
from jianguan.gateway.server import Gateway, TlsConfig
from jianguan.kafka_io.admin import ensure_topics
from jianguan.runtime.broker import KafkaCluster
from jianguan_sdk.client import IngestClient, TlsClientConfig
from tests.certs import TestCa
from tests.helpers import generation
from tests.integration.conftest import LoopThread

pytestmark = pytest.mark.integration


@pytest.fixture
def tls_gateway(
    broker: KafkaCluster, tmp_path: Path
) -> Iterator[tuple[Gateway, TestCa, LoopThread]]:
    ca = TestCa()
    cert, key, ca_path = ca.write_server(tmp_path)
    registry = ProviderRegistry(
        [
            Provider("tls-ai", "TLS AI", mtls_subject="tls-ai.provider"),
            Provider("token-ai", "Token AI", token_sha256=token_digest("tok-token-ai")),
        ]
    )
    namespace = f"t{uuid.uuid4().hex[:10]}"
    ensure_topics(
        broker.bootstrap,
        [topics.topic_name(t, namespace) for t in (topics.EVENTS, topics.OUTCOMES)],
        topics.PARTITIONS,
    )
    loop = LoopThread()
    gateway = Gateway(registry, broker.bootstrap, namespace, tls=TlsConfig(cert, key, ca_path))
    try:
        loop.run(gateway.start())
        yield gateway, ca, loop
    finally:
        loop.run(gateway.stop(grace=1))
        loop.close()


def _publish(
    gateway: Gateway, loop: LoopThread, tls: TlsClientConfig, token: str | None = None
) -> pb.BatchAck:
    async def go() -> pb.BatchAck:
        async with IngestClient(f"localhost:{gateway.port}", token=token, tls=tls) as client:
            return await client.publish_batch([generation(f"m-{uuid.uuid4().hex[:8]}")])

    return loop.run(go())


def test_client_certificate_identifies_the_provider(tls_gateway) -> None:  # type: ignore[no-untyped-def]
    gateway, ca, loop = tls_gateway
    issued = ca.issue("tls-ai.provider")
    ack = _publish(gateway, loop, TlsClientConfig(ca.pem, issued.cert, issued.key))
    assert ack.accepted == 1


def test_certificate_of_an_unregistered_subject_is_refused(tls_gateway) -> None:  # type: ignore[no-untyped-def]
    gateway, ca, loop = tls_gateway
    issued = ca.issue("somebody-else")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        _publish(gateway, loop, TlsClientConfig(ca.pem, issued.cert, issued.key))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_certificate_from_another_ca_never_gets_in(tls_gateway) -> None:  # type: ignore[no-untyped-def]
    gateway, ca, loop = tls_gateway
    forged = TestCa("forger").issue("tls-ai.provider")  # right subject, wrong issuer
    with pytest.raises(grpc.aio.AioRpcError) as err:
        _publish(gateway, loop, TlsClientConfig(ca.pem, forged.cert, forged.key))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE  # the TLS handshake fails


def test_token_and_certificate_must_agree(tls_gateway) -> None:  # type: ignore[no-untyped-def]
    gateway, ca, loop = tls_gateway
    issued = ca.issue("tls-ai.provider")
    tls = TlsClientConfig(ca.pem, issued.cert, issued.key)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        _publish(gateway, loop, tls, token="tok-token-ai")
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "different providers" in (err.value.details() or "")
