"""`jianguan providers …`, `jianguan authorities add` and `jianguan regulators …`: who may report,
who records complaints made to an authority, and who may use the console."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from kafka.errors import KafkaError

from jianguan.accounts.registry import (
    Authority,
    Provider,
    ProviderRegistry,
    RegistryError,
    load_registry,
    new_token,
    save_registry,
    token_digest,
)
from jianguan.accounts.regulators import (
    ROLES,
    AccountError,
    Accounts,
    add_account,
    issue_api_token,
)
from jianguan.cli.common import kafka_listeners
from jianguan.contracts import topics
from jianguan.kafka_io.access import (
    AccessError,
    issue_credential,
    revoke_access,
    sync_access,
)
from jianguan.kafka_io.acl import acl_script
from jianguan.settings import Settings


def cmd_providers(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.providers_file
    registry = load_registry(path)
    if args.action == "list":
        for p in registry.providers:
            print(
                f"{p.id:24} {p.name:32} rate={p.rate_per_s:.0f}/s mtls={p.mtls_subject or '-'}"
                f" sector={p.sector or '-'}"
            )
        return 0
    if args.action == "acl":
        print(
            acl_script(registry.providers, args.bootstrap, args.admin_config, args.namespace),
            end="",
        )
        return 0
    if args.action in ("revoke", "rotate", "kafka-credential") and registry.get(args.id) is None:
        print(f"error: no provider {args.id!r}", file=sys.stderr)
        return 2
    if args.action == "revoke":
        return _revoke_provider(args, settings, registry)
    if args.action == "rotate":
        return _rotate_token(args, settings, registry)
    if args.action == "kafka-credential":
        return 0 if _kafka_credential(settings, registry, args.id) else 1
    if registry.get(args.id) is not None:
        print(f"error: provider {args.id!r} exists", file=sys.stderr)
        return 2
    token = new_token()
    provider = Provider(
        args.id,
        args.name or args.id,
        token_sha256=token_digest(token),
        mtls_subject=args.mtls_subject or "",
        rate_per_s=args.rate,
        burst=args.rate * 2,
        sector=args.sector or "",
    )
    try:
        updated = ProviderRegistry([*registry.providers, provider], registry.authorities)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    save_registry(path, updated)
    print(f"registered {args.id}; its token (shown once, store it safely):\n{token}")
    _kafka_credential(settings, updated, args.id)
    return 0


def _kafka_credential(settings: Settings, registry: ProviderRegistry, provider_id: str) -> bool:
    """Direct Kafka ingest for one provider: its topics and ACLs, and a new SCRAM password."""
    kafka = kafka_listeners(settings)
    if kafka is None:
        print(
            "direct Kafka ingest: no broker is running; once `jianguan up` runs, "
            f"`jianguan providers kafka-credential {provider_id}` issues its SCRAM password"
        )
        return False
    try:
        sync_access(kafka[0], registry.providers, settings.topic_namespace)
        password = issue_credential(kafka[0], provider_id)
    except (KafkaError, AccessError, OSError) as exc:
        print(f"error: the broker at {kafka[0]} refused: {exc}", file=sys.stderr)
        return False
    inbound = topics.inbound_topic(provider_id, settings.topic_namespace)
    print(
        f"direct Kafka ingest: {kafka[1]} (SASL_PLAINTEXT, SCRAM-SHA-512), user {provider_id},"
        f" writes {inbound}, reads {topics.feedback_topic(provider_id, settings.topic_namespace)};"
        f" its password (shown once):\n{password}"
    )
    return True


def _rotate_token(args: argparse.Namespace, settings: Settings, registry: ProviderRegistry) -> int:
    """A new token for a provider; the old one is refused as soon as the running gateway
    re-reads the registry (within seconds)."""
    provider = registry.get(args.id)
    assert provider is not None  # cmd_providers checked
    token = new_token()
    rotated = dataclasses.replace(provider, token_sha256=token_digest(token))
    providers = [rotated if p.id == args.id else p for p in registry.providers]
    save_registry(settings.providers_file, ProviderRegistry(providers, registry.authorities))
    print(
        f"rotated the token of {args.id}; the old one is refused within seconds. Its new token"
        f" (shown once, store it safely):\n{token}"
    )
    return 0


def _revoke_provider(
    args: argparse.Namespace, settings: Settings, registry: ProviderRegistry
) -> int:
    """Remove a provider from the registry and take away its broker access (its data stays)."""
    remaining = [p for p in registry.providers if p.id != args.id]
    save_registry(settings.providers_file, ProviderRegistry(remaining, registry.authorities))
    print(
        f"revoked {args.id}: its token is refused within seconds (running services re-read"
        " the registry)"
    )
    kafka = kafka_listeners(settings)
    if kafka is None:
        print("no broker is running: `jianguan up` removes its Kafka credential and ACLs")
        return 0
    try:
        revoke_access(kafka[0], args.id)
    except (KafkaError, AccessError, OSError) as exc:
        print(f"error: the broker at {kafka[0]} refused: {exc}", file=sys.stderr)
        return 1
    print(f"removed its Kafka credential and ACLs at {kafka[0]}")
    return 0


def cmd_authorities(args: argparse.Namespace, settings: Settings) -> int:
    """Register an authority account (records complaints made to it, Art. 18)."""
    path = settings.providers_file
    registry = load_registry(path)
    token = new_token()
    try:
        updated = ProviderRegistry(
            registry.providers,
            [*registry.authorities, Authority(args.id, args.name or args.id, token_digest(token))],
        )
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    save_registry(path, updated)
    print(f"registered authority {args.id}; its token (shown once, store it safely):\n{token}")
    return 0


def cmd_regulators(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.regulators_file
    if args.action == "add":
        if args.role == "viewer" and not (args.providers or args.sectors):
            print(
                "error: a viewer needs --providers or --sectors (the department's scope)",
                file=sys.stderr,
            )
            return 2
        providers = [p for p in (args.providers or "").split(",") if p]
        sectors = [s for s in (args.sectors or "").split(",") if s]
        authority = args.authority or ""
        known = {a.id for a in load_registry(settings.providers_file).authorities}
        if authority and authority not in known:
            print(
                f"error: no authority {authority!r} is registered (jianguan authorities add)",
                file=sys.stderr,
            )
            return 2
        password = add_account(
            path, args.username, args.role, providers, args.name or "", sectors, authority
        )
        print(f"regulator {args.username} ({args.role}); password (shown once):\n{password}")
        return 0
    if args.action == "token":
        try:
            token = issue_api_token(path, args.username)
        except AccountError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(
            f"API token of {args.username} (shown once; it replaces any earlier one): reads the"
            f" console's /api/ as this account, in its scope, logged\n{token}"
        )
        return 0
    for a in Accounts.load(path).all:
        scope = (
            ",".join(sorted(a.providers) + [f"sector:{s}" for s in sorted(a.sectors)])
            if a.role == "viewer"
            else "all providers"
        )
        token = "  (API token)" if a.api_token_hash else ""
        authority = f"  authority {a.authority}" if a.authority else ""
        print(f"{a.username:20} {a.role:8} {scope}{authority}{token}")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    prov = sub.add_parser("providers", help="the provider registry")
    prov_sub = prov.add_subparsers(dest="action", required=True)
    add = prov_sub.add_parser("add", help="register a provider and print its token")
    add.add_argument("id", help="3-64 lowercase letters, digits and dashes")
    add.add_argument("--name", help="the provider's name as the console shows it (default: id)")
    add.add_argument(
        "--mtls-subject", help="the common name of its client certificate, when it uses mTLS"
    )
    add.add_argument(
        "--rate", type=float, default=200_000.0, help="events per second (burst: twice that)"
    )
    add.add_argument("--sector", help="e.g. education, news, healthcare (console viewer scopes)")
    prov_sub.add_parser("list", help="the registered providers")
    revoke = prov_sub.add_parser(
        "revoke", help="remove a provider; its Kafka credential and ACLs go with it"
    )
    revoke.add_argument("id", help="the provider's id")
    rotate = prov_sub.add_parser(
        "rotate", help="issue a new token for a provider; the old one is refused within seconds"
    )
    rotate.add_argument("id", help="the provider's id")
    cred = prov_sub.add_parser(
        "kafka-credential", help="issue a new SCRAM password for direct Kafka ingest (rotation)"
    )
    cred.add_argument("id", help="the provider's id")
    acl = prov_sub.add_parser("acl", help="Kafka ACLs (SASL/SCRAM) for direct ingest, as a script")
    acl.add_argument(
        "--bootstrap", default="${BOOTSTRAP}", help="the cluster's bootstrap, as the script says"
    )
    acl.add_argument(
        "--admin-config",
        default="${ADMIN_CONFIG}",
        help="the admin client's properties file, as the script says",
    )
    acl.add_argument("--namespace", default="", help="the topics' namespace (test isolation)")
    prov.set_defaults(fn=cmd_providers)

    auth = sub.add_parser("authorities", help="authority accounts (Art. 18 complaint intake)")
    auth_sub = auth.add_subparsers(dest="action", required=True)
    auth_add = auth_sub.add_parser("add", help="register an authority and print its token")
    auth_add.add_argument("id", help="3-64 lowercase letters, digits and dashes")
    auth_add.add_argument("--name", help="the authority's name (default: id)")
    auth.set_defaults(fn=cmd_authorities)

    reg = sub.add_parser("regulators", help="regulator accounts of the console")
    reg_sub = reg.add_subparsers(dest="action", required=True)
    radd = reg_sub.add_parser("add", help="create (or reset) an account and print its password")
    radd.add_argument("username", help="the login name")
    radd.add_argument(
        "--role",
        choices=ROLES,
        required=True,
        help="admin: everything and the access log; analyst: every provider; viewer: a scope",
    )
    radd.add_argument("--providers", help="a viewer's scope: provider ids, comma-separated")
    radd.add_argument("--sectors", help="a viewer's scope: sectors, comma-separated")
    radd.add_argument("--name", help="the person's or department's name (default: username)")
    radd.add_argument(
        "--authority",
        help="the authority the account works for (an `authorities add` id): it sees that"
        " authority's inspections (Art. 19 ¶2), and no other's",
    )
    reg_sub.add_parser("list", help="the accounts, their roles and scopes")
    rtok = reg_sub.add_parser(
        "token",
        help="issue an API token for reading the console's /api/ as the account (e.g. the"
        " department's Grafana); replaces any earlier one",
    )
    rtok.add_argument("username", help="the account's login name")
    reg.set_defaults(fn=cmd_regulators)
