"""Providers managed while everything runs: a provider added, a token rotated, a provider
revoked with `jianguan providers …` reach a running gateway and the Kafka inbound validator
within seconds, without a restart."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from pathlib import Path

import grpc
import pytest

from jianguan.accounts.registry import Provider, ProviderRegistry, save_registry, token_digest
from jianguan.accounts.registry_watch import RegistryWatcher
from jianguan.cli import main
from jianguan.gateway.server import Gateway
from jianguan.ingest.inbound import InboundValidator
from jianguan.kafka_io.access import SCRAM_MECHANISM, issue_credential, sync_access
from jianguan.runtime.broker import KafkaCluster
from jianguan_sdk.client import IngestClient
from jianguan_sdk.kafka_client import KafkaIngestClient
from tests.helpers import chained, eventually
from tests.integration.conftest import TOKENS, Spine, registry

pytestmark = pytest.mark.integration


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Runs `jianguan …` and returns its token line (the last that starts with jgt_)."""
    assert main(args) == 0
    return [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("jgt_")][-1]


@pytest.fixture
def registry_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "providers.toml"
    save_registry(path, registry())
    monkeypatch.setenv("JIANGUAN_PROVIDERS_FILE", str(path))
    monkeypatch.setenv("JIANGUAN_STATE_DIR", str(tmp_path))  # no broker of the CLI's there
    monkeypatch.delenv("JIANGUAN_KAFKA", raising=False)
    return path


def test_the_running_gateway_takes_added_rotated_and_revoked_providers(
    spine: Spine, registry_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gateway = Gateway(
        RegistryWatcher(registry_file, interval_s=0.2), spine.bootstrap, spine.namespace
    )
    spine.loop.run(gateway.start())
    target = f"127.0.0.1:{gateway.port}"

    def session(token: str) -> grpc.StatusCode:
        async def ask() -> grpc.StatusCode:
            async with IngestClient(target, token=token) as client:
                try:
                    await client.session()
                except grpc.aio.AioRpcError as exc:
                    return exc.code()
            return grpc.StatusCode.OK

        return spine.loop.run(ask())

    try:
        assert session(TOKENS["acme-ai"]) == grpc.StatusCode.OK
        added = _cli(["providers", "add", "delta-ai", "--name", "Delta"], capsys)
        eventually(lambda: session(added) == grpc.StatusCode.OK)

        async def publish() -> int:
            async with IngestClient(target, token=added) as client:
                return (await client.publish_batch(chained("live", 5))).accepted

        assert spine.loop.run(publish()) == 5  # and it reports, as itself
        assert spine.wait_stored(5) == 5
        assert spine.query("SELECT DISTINCT provider_id FROM events") == [("delta-ai",)]

        rotated = _cli(["providers", "rotate", "acme-ai"], capsys)
        eventually(lambda: session(TOKENS["acme-ai"]) == grpc.StatusCode.UNAUTHENTICATED)
        assert session(rotated) == grpc.StatusCode.OK

        assert main(["providers", "revoke", "delta-ai"]) == 0
        eventually(lambda: session(added) == grpc.StatusCode.UNAUTHENTICATED)
        assert session(TOKENS["beta-ai"]) == grpc.StatusCode.OK  # the others go on
    finally:
        spine.loop.run(gateway.stop(grace=1))


def test_the_inbound_validator_reads_a_provider_registered_while_it_runs(
    spine: Spine, broker: KafkaCluster, registry_file: Path
) -> None:
    validator = InboundValidator(
        spine.bootstrap,
        RegistryWatcher(registry_file, interval_s=0.2),
        spine.namespace,
        group=f"inbound-{spine.namespace}",
    )
    spine.loop.run(validator.start())
    task: Future[None] = spine.loop.submit(validator.run())
    try:
        # As `jianguan providers add` does with the broker up: the registry, then its topics,
        # ACLs and SCRAM password.
        delta = Provider("delta-ai", "Delta", token_sha256=token_digest("tok-delta"))
        grown = ProviderRegistry([*registry().providers, delta])
        sync_access(spine.bootstrap, grown.providers, spine.namespace)
        password = issue_credential(spine.bootstrap, "delta-ai")
        save_registry(registry_file, grown)
        security = {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": SCRAM_MECHANISM,
            "sasl_plain_username": "delta-ai",
            "sasl_plain_password": password,
        }

        async def via_kafka() -> int:
            async with KafkaIngestClient(
                broker.provider_bootstrap, "delta-ai", spine.namespace, security
            ) as client:
                return (await client.publish_batch(chained("inbound-live", 7))).accepted

        assert spine.loop.run(via_kafka(), timeout=120) == 7
        assert spine.wait_stored(7) == 7
        assert spine.query("SELECT DISTINCT provider_id FROM events") == [("delta-ai",)]
    finally:
        validator.request_stop()

        async def stopped() -> None:
            await asyncio.wait_for(asyncio.wrap_future(task), 30)

        spine.loop.run(stopped())
