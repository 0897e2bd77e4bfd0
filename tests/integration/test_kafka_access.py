"""The broker itself enforces who may do what: each provider, authenticated by SASL/SCRAM on the
providers' listener, may write only its inbound topic and read only its feedback topic."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)
from kafka.admin import KafkaAdminClient
from kafka.errors import ClusterAuthorizationFailedError
from kafka.errors import TopicAuthorizationFailedError as SyncTAF

from jianguan.accounts.registry import Provider
from jianguan.contracts import topics
from jianguan.kafka_io.access import SCRAM_MECHANISM, issue_credential, revoke_access, sync_access
from jianguan.kafka_io.admin import ensure_topics
from jianguan.runtime.broker import KafkaCluster

pytestmark = pytest.mark.integration


@dataclass
class Tenant:
    id: str
    password: str


@dataclass
class Access:
    broker: KafkaCluster
    namespace: str
    a: Tenant
    b: Tenant
    providers: list[Provider]

    def sasl(self, who: Tenant, password: str | None = None) -> dict[str, Any]:
        return {
            "bootstrap_servers": self.broker.provider_bootstrap,
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": SCRAM_MECHANISM,
            "sasl_plain_username": who.id,
            "sasl_plain_password": password if password is not None else who.password,
        }

    def inbound(self, who: Tenant) -> str:
        return topics.inbound_topic(who.id, self.namespace)

    def feedback(self, who: Tenant) -> str:
        return topics.feedback_topic(who.id, self.namespace)

    def topic(self, name: str) -> str:
        """A topic by what it is to provider ``a``."""
        return {
            "other's inbound": self.inbound(self.b),
            "other's feedback": self.feedback(self.b),
            "own inbound": self.inbound(self.a),
            "own feedback": self.feedback(self.a),
            "events topic": topics.topic_name(topics.EVENTS, self.namespace),
        }[name]


@pytest.fixture
def access(broker: KafkaCluster) -> Iterator[Access]:
    namespace = f"t{uuid.uuid4().hex[:10]}"
    ids = [f"acl-a-{uuid.uuid4().hex[:6]}", f"acl-b-{uuid.uuid4().hex[:6]}"]
    providers = [Provider(i, i, token_sha256="0" * 64) for i in ids]
    ensure_topics(
        broker.bootstrap, [topics.topic_name(topics.EVENTS, namespace)], topics.PARTITIONS
    )
    sync_access(broker.bootstrap, providers, namespace)
    a, b = (Tenant(i, issue_credential(broker.bootstrap, i)) for i in ids)
    yield Access(broker, namespace, a, b, providers)
    for i in ids:
        revoke_access(broker.bootstrap, i)


async def _produce(config: dict[str, Any], topic: str) -> None:
    producer = AIOKafkaProducer(acks="all", enable_idempotence=True, **config)
    await producer.start()
    try:
        await (await producer.send(topic, b"probe", key=b"k"))
    finally:
        await producer.stop()


async def _consume_one(config: dict[str, Any], topic: str, group: str) -> bytes | None:
    consumer = AIOKafkaConsumer(topic, group_id=group, auto_offset_reset="earliest", **config)
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=5000)
        for records in batch.values():
            return records[0].value  # type: ignore[no-any-return]
        return None
    finally:
        await consumer.stop()


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_a_provider_writes_its_inbound_and_reads_its_feedback(access: Access) -> None:
    run(_produce(access.sasl(access.a), access.inbound(access.a)))
    # the platform (internal listener) writes feedback; the provider reads it in its own group
    run(_produce({"bootstrap_servers": access.broker.bootstrap}, access.feedback(access.a)))
    got = run(
        _consume_one(
            access.sasl(access.a), access.feedback(access.a), f"{access.feedback(access.a)}.sdk"
        )
    )
    assert got == b"probe"


@pytest.mark.parametrize("target", ["other's inbound", "own feedback", "events topic"])
def test_writes_outside_its_inbound_are_refused(access: Access, target: str) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        run(_produce(access.sasl(access.a), access.topic(target)))


@pytest.mark.parametrize("target", ["other's feedback", "own inbound", "events topic"])
def test_reads_outside_its_feedback_are_refused(access: Access, target: str) -> None:
    group = f"{access.feedback(access.a)}.sdk"
    with pytest.raises((TopicAuthorizationFailedError, GroupAuthorizationFailedError)):
        run(_consume_one(access.sasl(access.a), access.topic(target), group))


def test_a_consumer_group_outside_its_prefix_is_refused(access: Access) -> None:
    with pytest.raises(GroupAuthorizationFailedError):
        run(_consume_one(access.sasl(access.a), access.feedback(access.a), "jianguan-store"))


def test_a_provider_sees_only_its_own_topics(access: Access) -> None:
    admin = KafkaAdminClient(**access.sasl(access.a))
    try:
        visible = set(admin.list_topics())
    finally:
        admin.close()
    assert visible == {access.inbound(access.a), access.feedback(access.a)}


def test_administration_is_refused(access: Access) -> None:
    admin = KafkaAdminClient(**access.sasl(access.a))
    try:
        with pytest.raises(SyncTAF):
            admin.create_topics({f"{access.namespace}.jg.mine.v1": {"num_partitions": 1}})
        with pytest.raises((ClusterAuthorizationFailedError, KafkaError)):
            issue_credential_as(admin, access.b.id)
    finally:
        admin.close()


def issue_credential_as(admin: KafkaAdminClient, user: str) -> None:
    from kafka.admin import UserScramCredentialUpsertion

    errors = admin.alter_user_scram_credentials(
        [UserScramCredentialUpsertion(user, SCRAM_MECHANISM, "taken-over")]
    )
    if errors.get(user):
        raise ClusterAuthorizationFailedError(errors[user])


def _refused_authentication(
    access: Access, who: Tenant, caplog: pytest.LogCaptureFixture, password: str | None = None
) -> None:
    caplog.clear()
    with pytest.raises(KafkaConnectionError):
        run(_produce(access.sasl(who, password), access.inbound(who)))
    assert "SaslAuthenticationFailed" in caplog.text
    assert "invalid credentials" in caplog.text


def test_a_wrong_password_does_not_authenticate(
    access: Access, caplog: pytest.LogCaptureFixture
) -> None:
    _refused_authentication(access, access.a, caplog, password="guess")


def test_a_revoked_provider_loses_its_access(
    access: Access, caplog: pytest.LogCaptureFixture
) -> None:
    revoke_access(access.broker.bootstrap, access.a.id)
    _refused_authentication(access, access.a, caplog)
    # the other provider is untouched
    run(_produce(access.sasl(access.b), access.inbound(access.b)))


def test_sync_removes_access_of_providers_no_longer_registered(
    access: Access, caplog: pytest.LogCaptureFixture
) -> None:
    sync_access(access.broker.bootstrap, [access.providers[1]], access.namespace)
    _refused_authentication(access, access.a, caplog)
    run(_produce(access.sasl(access.b), access.inbound(access.b)))
