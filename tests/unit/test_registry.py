from pathlib import Path

import pytest

from jianguan.accounts.registry import (
    Provider,
    ProviderRegistry,
    RegistryError,
    new_token,
    token_digest,
)


def test_round_trip_and_lookup(tmp_path: Path) -> None:
    token = new_token()
    reg = ProviderRegistry(
        [
            Provider(
                "acme-ai", 'Acme "AI"', token_sha256=token_digest(token), rate_per_s=5, burst=9
            ),
            Provider("beta-ai", "Beta", mtls_subject="beta-ai.client", max_streams=64),
        ]
    )
    path = tmp_path / "providers.toml"
    path.write_text(reg.dump())
    assert token not in path.read_text()
    loaded = ProviderRegistry.load(path)
    found = loaded.by_token(token)
    assert found is not None
    assert found.id == "acme-ai"
    assert found.name == 'Acme "AI"'
    assert found.policy.rate_per_s == 5
    assert loaded.by_token(token + "x") is None
    beta = loaded.by_subject("beta-ai.client")
    assert beta is not None
    assert beta.id == "beta-ai"
    assert (beta.max_streams, found.max_streams) == (64, 0)


@pytest.mark.parametrize(
    ("providers", "message"),
    [
        ([Provider("Bad Id", "x", token_sha256="a")], "lowercase"),
        (
            [Provider("dup-a", "x", token_sha256="a"), Provider("dup-a", "y", token_sha256="b")],
            "twice",
        ),
        ([Provider("no-cred", "x")], "neither"),
    ],
)
def test_rejects_bad_registries(providers: list[Provider], message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        ProviderRegistry(providers)


def test_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "p.toml"
    bad.write_text("[[provider]\n")
    with pytest.raises(RegistryError, match="cannot read"):
        ProviderRegistry.load(bad)
