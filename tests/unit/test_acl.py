import shlex

from jianguan.accounts.registry import Provider
from jianguan.kafka_io.acl import acl_script, provider_rules

ACME = Provider("acme-ai", "Acme", token_sha256="x")
BETA = Provider("beta-ai", "Beta", token_sha256="y")


def test_a_provider_may_write_only_its_inbound_and_read_only_its_feedback() -> None:
    rules = provider_rules(ACME)
    assert {(r.resource, r.name, r.operations) for r in rules} == {
        ("topic", "jg.inbound.acme-ai.v1", ("Write", "Describe")),
        ("topic", "jg.feedback.acme-ai.v1", ("Read", "Describe")),
        ("group", "jg.feedback.acme-ai.v1.", ("Read",)),
    }
    assert all(r.principal == "acme-ai" for r in rules)


def test_script_covers_every_provider_and_keeps_secrets_out() -> None:
    script = acl_script([ACME, BETA], namespace="")
    for pid in ("acme-ai", "beta-ai"):
        assert f"--allow-principal User:{pid} --operation Write" in script
        assert f"--entity-name {pid}" in script
    assert "SCRAM_PASSWORD_ACME_AI" in script
    assert "password=x" not in script
    assert '--bootstrap-server "${BOOTSTRAP}"' in script
    for line in script.splitlines():
        if line and not line.startswith("#"):
            shlex.split(line)  # every line is valid shell


def test_concrete_bootstrap_is_quoted() -> None:
    script = acl_script([ACME], bootstrap="kafka-1:9093", admin_config="/etc/admin.conf")
    assert "--bootstrap-server kafka-1:9093 --command-config /etc/admin.conf" in script
