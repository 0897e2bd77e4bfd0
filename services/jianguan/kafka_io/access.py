"""Who may do what on the brokers: providers' SASL/SCRAM credentials and ACLs, applied on a running
cluster with the Kafka admin API (through the internal listener, as the super user).

The provider registry is the source of truth: ``sync_access`` gives every registered provider its
topics and exactly the ACLs of ``kafka_io.acl.provider_rules`` (write its inbound topic, read its
feedback topic, its own feedback consumer groups), removes ACLs on this namespace's ``jg.``
resources that no registered provider should hold, and removes the credential of any user left
with no ACL at all. The brokers enforce the ACLs themselves
(``allow.everyone.if.no.acl.found=false``).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    KafkaAdminClient,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)
from kafka.errors import ClusterAuthorizationFailedError, SecurityDisabledError

from jianguan.accounts.registry import Provider
from jianguan.contracts import topics
from jianguan.kafka_io.acl import AclRule, provider_rules
from jianguan.kafka_io.admin import ensure_provider_topics

log = logging.getLogger(__name__)
# The providers' SASL mechanism on the brokers' SCRAM listener.
SCRAM_MECHANISM = "SCRAM-SHA-512"
SCRAM_ITERATIONS = 8192
_RESOURCE = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP}


class AccessError(RuntimeError):
    pass


def binding_acls(rule: AclRule) -> list[ACL]:
    """One kafka-python ACL per operation of a rule (pure)."""
    pattern = ResourcePattern(
        _RESOURCE[rule.resource],
        rule.name,
        ACLResourcePatternType.PREFIXED if rule.prefixed else ACLResourcePatternType.LITERAL,
    )
    return [
        ACL(
            f"User:{rule.principal}",
            "*",
            ACLOperation[op.upper()],
            ACLPermissionType.ALLOW,
            pattern,
        )
        for op in rule.operations
    ]


def expected_acls(providers: Iterable[Provider], namespace: str = "") -> set[ACL]:
    return {acl for p in providers for r in provider_rules(p, namespace) for acl in binding_acls(r)}


@contextmanager
def admin_client(bootstrap: str) -> Iterator[KafkaAdminClient]:
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="jianguan-access", request_timeout_ms=15000
    )
    try:
        yield admin
    finally:
        admin.close()


def _all_acls(admin: KafkaAdminClient) -> list[ACL]:
    acls, _ = admin.describe_acls(  # raises on an error
        ACLFilter(
            principal=None,
            host="*",
            operation=ACLOperation.ANY,
            permission_type=ACLPermissionType.ANY,
            resource_pattern=ResourcePatternFilter(
                ResourceType.ANY, None, ACLResourcePatternType.ANY
            ),
        )
    )
    return list(acls)


def _ours(acl: ACL, namespace: str) -> bool:
    """An ACL on this namespace's ``jg.`` topics or groups (other namespaces are left alone)."""
    return str(acl.resource_pattern.resource_name).startswith(topics.topic_name("jg.", namespace))


def _delete(admin: KafkaAdminClient, acls: Iterable[ACL]) -> None:
    filters = [
        ACLFilter(a.principal, a.host, a.operation, a.permission_type, a.resource_pattern)
        for a in acls
    ]
    if filters:
        admin.delete_acls(filters)


def sync_access(bootstrap: str, providers: list[Provider], namespace: str = "") -> None:
    """Make topics, ACLs and credentials match the registry (idempotent)."""
    ensure_provider_topics(bootstrap, providers, namespace)
    wanted = expected_acls(providers, namespace)
    with admin_client(bootstrap) as admin:
        try:
            present = _all_acls(admin)
        except (SecurityDisabledError, ClusterAuthorizationFailedError) as exc:
            log.warning(
                "providers' ACLs not applied (%s): on a cluster of your own, apply the script "
                "of `jianguan providers acl`",
                type(exc).__name__,
            )
            return
        stale = [a for a in present if _ours(a, namespace) and a not in wanted]
        _delete(admin, stale)
        missing = list(wanted.difference(present))
        if missing:
            result = admin.create_acls(missing)
            if result["failed"]:
                raise AccessError(f"creating ACLs failed: {result['failed']}")
        now_held = set(present).difference(stale) | wanted
        holders = {a.principal.removeprefix("User:") for a in now_held}
        registered = {p.id for p in providers}
        users = admin.describe_user_scram_credentials()
        orphans = [u for u in users if u not in holders and u not in registered]
        if orphans:
            admin.alter_user_scram_credentials(
                [UserScramCredentialDeletion(u, SCRAM_MECHANISM) for u in orphans]
            )
            for u in orphans:
                _await_credential(admin, u, present=False)
            log.info("removed the SCRAM credentials of %s", ", ".join(sorted(orphans)))


def _await_credential(admin: KafkaAdminClient, user: str, present: bool) -> None:
    """Until the brokers' metadata shows the change (the controller commits it first)."""
    deadline = time.monotonic() + 15.0
    while (user in admin.describe_user_scram_credentials()) != present:
        if time.monotonic() > deadline:
            raise AccessError(f"the credential change of {user} did not reach the brokers")
        time.sleep(0.05)


def issue_credential(bootstrap: str, provider_id: str) -> str:
    """A new SCRAM-SHA-512 password for the provider (replacing any earlier one); shown once,
    the brokers keep only its salted keys."""
    password = secrets.token_urlsafe(24)
    with admin_client(bootstrap) as admin:
        errors = admin.alter_user_scram_credentials(
            [
                UserScramCredentialUpsertion(
                    provider_id, SCRAM_MECHANISM, password, iterations=SCRAM_ITERATIONS
                )
            ]
        )
        if errors.get(provider_id):
            raise AccessError(
                f"issuing the credential of {provider_id} failed: {errors[provider_id]}"
            )
        _await_credential(admin, provider_id, present=True)
    return password


def revoke_access(bootstrap: str, provider_id: str) -> None:
    """Remove the provider's credential and every ACL it holds (its topics and data stay)."""
    with admin_client(bootstrap) as admin:
        _delete(admin, [a for a in _all_acls(admin) if a.principal == f"User:{provider_id}"])
        if provider_id in admin.describe_user_scram_credentials():
            admin.alter_user_scram_credentials(
                [UserScramCredentialDeletion(provider_id, SCRAM_MECHANISM)]
            )
            _await_credential(admin, provider_id, present=False)
