"""`jianguan simulate`: a 2-minute mixed run through the SDK against `jianguan up`; the manifest
of injected violations must equal the violations the platform found — each one, and no other."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from jianguan.accounts.registry import Authority, Provider, ProviderRegistry, token_digest
from jianguan.runtime.launcher import RunningUp, launched_up
from jianguan.simulator import fleet
from jianguan.simulator.library import by_name, default_base
from jianguan.simulator.verify import Key, found
from jianguan.store.executor import ServerExecutor

pytestmark = pytest.mark.integration
SEED, DURATION_S = 7, 120


def _found(up: RunningUp, providers: list[str]) -> set[Key]:
    ex = ServerExecutor(up.writer_url)
    try:
        return found(ex, providers)
    finally:
        ex.close()


def test_the_manifest_of_a_mixed_run_equals_what_the_platform_found(tmp_path: Path) -> None:
    library = by_name(default_base(time.time()))
    # room for every violating history of the library and compliant providers beside them
    providers = len(fleet.violating(library)) + 3
    planned = fleet.plan(providers, SEED, fleet.MIXED, library)
    tokens = {p.provider_id: f"tok-{p.provider_id}" for p in planned}
    # the authorities whose records the histories hold, their tokens beside the providers'
    authorities = {a: f"tok-{a}" for a in fleet.authorities(planned, library)}
    assert authorities  # the run includes the authorities' side (Art. 19, 21)
    registry = ProviderRegistry(
        [Provider(pid, pid, token_sha256=token_digest(t)) for pid, t in tokens.items()],
        [Authority(a, a, token_digest(t)) for a, t in authorities.items()],
    )
    tokens |= {fleet.authority_token_key(a): t for a, t in authorities.items()}
    (tmp_path / "tokens.json").write_text(json.dumps(tokens))
    env = {"JIANGUAN_RULE_TICK_SECONDS": "1", "JIANGUAN_CHECK_INTERVAL_SECONDS": "2"}
    with launched_up(tmp_path / "up", registry, env) as up:
        run = subprocess.run(
            [sys.executable, "-m", "jianguan.cli", "simulate", "--gateway", up.gateway,
             "--tokens", str(tmp_path / "tokens.json"), "--providers", str(providers),
             "--rate", "300", "--duration", str(DURATION_S), "--seed", str(SEED),
             "--scenario", "mixed", "--manifest", str(tmp_path / "manifest.json"),
             "--spool", str(tmp_path / "spools"), "--clickhouse", up.writer_url.secret_url(),
             "--check", "120"],
            capture_output=True, text=True, timeout=DURATION_S + 180, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        summary = json.loads(run.stdout.splitlines()[-1])
        # The simulator's own check agrees (it compares the same way, for operators).
        assert summary["check"] == {"ok": True, "missing": [], "unexpected": []}
        assert summary["reported"] == summary["delivered"] > 0.8 * 300 * DURATION_S
        manifest: dict[str, Any] = json.loads((tmp_path / "manifest.json").read_text())
        expected = {
            (v["provider_id"], v["rule_id"], v["obligation"]) for v in manifest["violations"]
        }
        # Every violating history of the library is in the mixed run.
        assert {v["scenario"] for v in manifest["violations"]} == set(fleet.violating(library))
        got: set[Key] = set()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            got = _found(up, [p.provider_id for p in planned])
            if got == expected:
                break
            time.sleep(2)
        assert got - expected == set(), "the platform found violations nobody injected"
        assert expected - got == set(), "injected violations the platform did not find"
        # Compliant providers are clean, and the platform stored the whole traffic once.
        clean = {p["provider_id"] for p in manifest["providers"]} - {k[0] for k in expected}
        assert clean
        assert not any(k[0] in clean for k in got)
        want = [(summary["delivered"], summary["delivered"])]
        deadline = time.monotonic() + 60
        while True:
            ex = ServerExecutor(up.writer_url)
            try:
                stored = ex.execute("SELECT count(), uniqExact(provider_id, event_id) FROM events")
            finally:
                ex.close()
            if stored == want or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert stored == want
