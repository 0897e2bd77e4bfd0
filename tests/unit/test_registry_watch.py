"""The registry a running service sees (accounts.registry_watch): a change of the file is taken
at the next check, a broken file never replaces the last good registry; files are written with
tomli-w, atomically, and refuse names that would break them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jianguan import metrics
from jianguan.accounts.registry import (
    Authority,
    Provider,
    ProviderRegistry,
    RegistryError,
    save_registry,
    token_digest,
)
from jianguan.accounts.registry_watch import RegistryWatcher
from jianguan.accounts.regulators import Account, Accounts, save_accounts


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _registry(*ids: str) -> ProviderRegistry:
    return ProviderRegistry([Provider(i, i, token_sha256=token_digest(f"tok-{i}")) for i in ids])


def _touch_later(path: Path) -> None:
    """Make the file's modification time differ from the last one read, whatever the
    filesystem's time resolution."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_a_changed_file_is_taken_at_the_next_check(tmp_path: Path) -> None:
    path = tmp_path / "providers.toml"
    save_registry(path, _registry("acme-ai"))
    clock = Clock()
    watcher = RegistryWatcher(path, interval_s=1.0, clock=clock)
    first = watcher.current()
    assert first.by_token("tok-acme-ai") is not None
    save_registry(path, _registry("acme-ai", "beta-ai"))
    _touch_later(path)
    assert watcher.current() is first  # not checked again before the interval
    clock.now = 1.0
    now = watcher.current()
    assert now.by_token("tok-beta-ai") is not None
    clock.now = 2.0
    assert watcher.current() is now  # unchanged file: the same registry, not re-read


def test_a_broken_file_keeps_the_last_good_registry(tmp_path: Path) -> None:
    path = tmp_path / "providers.toml"
    save_registry(path, _registry("acme-ai"))
    clock = Clock()
    watcher = RegistryWatcher(path, clock=clock)
    failures = metrics.REGISTRY_RELOAD_FAILURES._value.get()
    path.write_text("[[provider]\n", encoding="utf-8")
    _touch_later(path)
    for t in (1.0, 2.0, 3.0):
        clock.now = t
        assert watcher.current().by_token("tok-acme-ai") is not None
    assert metrics.REGISTRY_RELOAD_FAILURES._value.get() == failures + 1  # said once
    save_registry(path, _registry("beta-ai"))
    _touch_later(path)
    clock.now = 4.0
    assert watcher.current().by_token("tok-acme-ai") is None  # revoked: refused now


def test_a_service_does_not_start_on_a_broken_registry(tmp_path: Path) -> None:
    path = tmp_path / "providers.toml"
    path.write_text("provider = 3\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"\[\[provider\]\]"):
        RegistryWatcher(path)


def test_files_are_written_whole_and_read_back_exactly(tmp_path: Path) -> None:
    path = tmp_path / "providers.toml"
    names = ['Acme "AI" \\ 智能', "Beta ]] [[provider]] id='x'"]
    registry = ProviderRegistry(
        [
            Provider("acme-ai", names[0], token_sha256="a" * 64, sector="news"),
            Provider("beta-ai", names[1], mtls_subject="beta.client", max_streams=3),
        ],
        [Authority("cac-bj", "网信办 北京", "b" * 64)],
    )
    save_registry(path, registry)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in ProviderRegistry.load(path).providers] == names
    assert ProviderRegistry.load(path).providers == registry.providers
    assert [f.name for f in tmp_path.iterdir()] == ["providers.toml"]  # no temporary file left
    accounts = Accounts([Account("li", 'Li "Q"', "viewer", "h", frozenset({"b", "a"}))])
    save_accounts(tmp_path / "regulators.toml", accounts)
    assert Accounts.load(tmp_path / "regulators.toml").all == accounts.all


@pytest.mark.parametrize("name", ["Acme\nAI", "Acme\tAI", "Acme\u2028AI", "x" * 201])
def test_a_name_that_would_break_a_line_is_refused(name: str) -> None:
    with pytest.raises(RegistryError):
        ProviderRegistry([Provider("acme-ai", name, token_sha256="a" * 64)])
