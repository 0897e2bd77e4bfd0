"""Registering parties through the CLI keeps everyone already registered; a setting it cannot
use stops it with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from jianguan.accounts.registry import ProviderRegistry
from jianguan.cli import main


@pytest.fixture
def path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The registry file the CLI writes, in a state directory where no broker runs."""
    registry = tmp_path / "providers.toml"
    monkeypatch.setenv("JIANGUAN_PROVIDERS_FILE", str(registry))
    monkeypatch.setenv("JIANGUAN_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("JIANGUAN_KAFKA", raising=False)
    return registry


def test_adding_providers_and_authorities_keeps_both(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["authorities", "add", "cac-bj", "--name", "CAC Beijing"]) == 0
    assert main(["providers", "add", "acme-ai"]) == 0
    assert main(["providers", "add", "acme-ai"]) == 2  # no silent overwrite
    out = capsys.readouterr().out
    tokens = [line for line in out.splitlines() if line.startswith("jgt_")]
    assert len(tokens) == 2
    registry = ProviderRegistry.load(path)
    assert [p.id for p in registry.providers] == ["acme-ai"]
    assert [a.id for a in registry.authorities] == ["cac-bj"]
    assert registry.authority_by_token(tokens[0]) is not None
    assert registry.by_token(tokens[1]) is not None
    assert registry.by_token(tokens[0]) is None  # an authority token is no provider token
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    for token in tokens:
        assert token not in path.read_text()


def test_revoking_a_provider_keeps_the_others(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["providers", "add", "acme-ai"]) == 0
    assert main(["providers", "add", "beta-ai"]) == 0
    out = capsys.readouterr().out
    assert "no broker is running" in out  # no SCRAM password without a broker to hold it
    assert main(["providers", "revoke", "acme-ai"]) == 0
    assert main(["providers", "revoke", "acme-ai"]) == 2
    assert main(["providers", "kafka-credential", "acme-ai"]) == 2
    assert [p.id for p in ProviderRegistry.load(path).providers] == ["beta-ai"]
    assert "`jianguan up` removes its Kafka credential" in capsys.readouterr().out


def test_a_mistyped_rule_override_stops_every_command_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JIANGUAN_RULE_OVERRIDES", '{"ART16-GRADE": {"grade_b_misses": 5}}')
    assert main(["rules", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: JIANGUAN_RULE_OVERRIDES: rule overrides: ART16-GRADE has no")
    assert err.count("\n") == 1


def test_up_refuses_a_receivers_file_it_cannot_use_before_starting_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JIANGUAN_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("JIANGUAN_PROVIDERS_FILE", str(tmp_path / "providers.toml"))
    monkeypatch.delenv("JIANGUAN_KAFKA", raising=False)
    assert main(["providers", "add", "acme-ai"]) == 0
    receivers = tmp_path / "receivers.json"
    receivers.write_text('{"receivers": [{"name": "duty", "kind": "pager", "url": "x"}]}')
    monkeypatch.setenv("JIANGUAN_ALERT_RECEIVERS_FILE", str(receivers))
    capsys.readouterr()
    assert main(["up"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: JIANGUAN_ALERT_RECEIVERS_FILE: receivers[0]"), err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "state").exists()  # no server was started


def test_rotating_a_token_refuses_the_old_one(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["providers", "add", "acme-ai", "--sector", "news"]) == 0
    assert main(["providers", "add", "beta-ai"]) == 0
    assert main(["providers", "rotate", "acme-ai"]) == 0
    assert main(["providers", "rotate", "nobody"]) == 2
    old, beta, new = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("jgt_")]
    registry = ProviderRegistry.load(path)
    assert registry.by_token(old) is None
    rotated = registry.by_token(new)
    assert rotated is not None
    assert (rotated.id, rotated.sector) == ("acme-ai", "news")  # the rest stays
    assert registry.by_token(beta) is not None


def test_a_name_with_a_newline_is_refused_in_one_line(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["providers", "add", "acme-ai", "--name", "Acme\nAI"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "control character" in err
    assert not path.exists()
