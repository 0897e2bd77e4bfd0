"""Alerting end to end: `jianguan up`, Debian's Prometheus and Alertmanager started by hand on
loopback with the project's configs (deploy/), a violation driven through the gateway, and a
webhook receiver that must get the alert — through Prometheus → Alertmanager, and through the
dispatcher (signed) — with rule, article, provider and evidence link."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jianguan.accounts.registry import Provider, ProviderRegistry, token_digest
from jianguan.alerting.signing import verify
from jianguan.runtime.launcher import RunningUp, launched_up
from jianguan.runtime.process import Child, free_port, port_open, wait_until
from jianguan.store.executor import ServerExecutor
from jianguan_sdk import builders
from jianguan_sdk.chain import Chain
from jianguan_sdk.client import IngestClient
from tests.webhook import Hook

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SECRET = "e2e-webhook-secret-0123"
CONSOLE = "https://console.example"
RULE, ARTICLE = "ART15-NO-DEADLINE", "Art. 15"
# How long to wait for an alert before calling it lost: a guard against hanging, not a latency
# bound (alert latency is measured by bench/sustained.py, never asserted in a test).
TIMEOUT_S = 180.0


def _metrics_port(up: RunningUp, name: str) -> int:
    for line in up.banner.splitlines():
        if line.strip().startswith(f"{name} metrics"):
            return int(line.rsplit(":", 1)[1].split("/")[0])
    raise AssertionError(up.banner)


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.close()


def _alertmanager(tmp: Path, hook: Hook) -> tuple[Child, int]:
    text = (ROOT / "deploy/alertmanager/alertmanager.yml").read_text()
    text = text.replace("http://127.0.0.1:9099", hook.base)
    text = text.replace("group_wait: 10s", "group_wait: 1s").replace(
        "group_interval: 1m", "group_interval: 2s"
    )
    (tmp / "alertmanager.yml").write_text(text)
    port = free_port()
    am = Child(
        "alertmanager",
        [
            shutil.which("prometheus-alertmanager") or "prometheus-alertmanager",
            f"--config.file={tmp / 'alertmanager.yml'}",
            f"--storage.path={tmp / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        tmp / "alertmanager.log",
    )
    wait_until(lambda: port_open("127.0.0.1", port), 30, "alertmanager", am)
    return am, port


def _prometheus(tmp: Path, up: RunningUp, am_port: int) -> tuple[Child, int]:
    shutil.copytree(ROOT / "deploy/prometheus/rules", tmp / "rules")
    text = (ROOT / "deploy/prometheus/prometheus.yml").read_text()
    for name, default in (
        ("gateway", 9464),
        ("processors", 9465),
        ("alerting", 9466),
        ("store", 9467),
    ):
        text = text.replace(f"127.0.0.1:{default}", f"127.0.0.1:{_metrics_port(up, name)}")
    text = text.replace("127.0.0.1:9093", f"127.0.0.1:{am_port}")
    text = text.replace("15s", "1s").replace("http://127.0.0.1:8080", CONSOLE)
    (tmp / "prometheus.yml").write_text(text)
    port = free_port()
    prom = Child(
        "prometheus",
        [
            shutil.which("prometheus") or "prometheus",
            f"--config.file={tmp / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp / 'prom-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        tmp / "prometheus.log",
    )
    wait_until(lambda: port_open("127.0.0.1", port), 30, "prometheus", prom)
    return prom, port


def _first(hook: Hook, path: str, match: Any, deadline: float) -> Any:
    while time.monotonic() < deadline:
        for p, headers, body, _ in list(hook.requests):
            if p == path and match(json.loads(body), headers, body):
                return json.loads(body)
        time.sleep(0.1)
    raise AssertionError(f"nothing on {path} in time; got {[r[0] for r in hook.requests]}")


def test_a_violation_reaches_a_webhook_through_alertmanager_and_the_dispatcher(
    tmp_path: Path, hook: Hook
) -> None:
    am, am_port = _alertmanager(tmp_path, hook)
    try:
        receivers = {
            "console_url": CONSOLE,
            "receivers": [
                {"name": "duty", "kind": "webhook", "url": hook.url, "secret": SECRET},
                {"name": "am", "kind": "alertmanager", "url": f"http://127.0.0.1:{am_port}"},
            ],
        }
        (tmp_path / "receivers.json").write_text(json.dumps(receivers))
        registry = ProviderRegistry(
            [
                Provider("late-ai", "Late AI", token_digest("tok-late")),
                Provider("later-ai", "Later AI", token_digest("tok-later")),
            ]
        )
        env = {
            "JIANGUAN_ALERT_RECEIVERS_FILE": str(tmp_path / "receivers.json"),
            "JIANGUAN_RULE_TICK_SECONDS": "1",
            "JIANGUAN_GAUGE_INTERVAL_SECONDS": "1",
        }
        with launched_up(tmp_path / "up", registry, env) as up:
            prom, _ = _prometheus(tmp_path, up, am_port)
            try:
                _run(up, hook)
            finally:
                prom.stop()
    finally:
        am.stop()


def _violate(up: RunningUp, provider: str, token: str) -> None:
    """A service registered without publishing a complaint deadline: due at once (Art. 15)."""
    registration = builders.service_filing(
        kind="registration", status="granted", service_name="Late Chat",
        complaint_channel_url=f"https://{provider}.example.cn/complaints",
        intended_users="adults", intended_uses="chat",
        usage_policy_url=f"https://{provider}.example.cn/usage",
        user_agreement_version="v1", user_agreement_url=f"https://{provider}.example.cn/terms",
    )  # fmt: skip
    event = Chain(f"{provider}-chat").seal(registration)

    async def send() -> int:
        async with IngestClient(up.gateway, token=token) as client:
            return (await client.publish_batch([event])).accepted

    assert asyncio.run(send()) == 1


def _arrivals(hook: Hook, provider: str) -> None:
    """Waits for the alert about ``provider`` on both paths and checks them."""
    deadline = time.monotonic() + TIMEOUT_S

    def from_prometheus(doc: Any, headers: Any, body: bytes) -> bool:
        return any(
            a["labels"].get("source") == "prometheus" and a["labels"].get("provider") == provider
            for a in doc["alerts"]
        )

    def from_dispatcher_via_am(doc: Any, headers: Any, body: bytes) -> bool:
        return any(
            a["labels"].get("source") == "dispatcher" and a["labels"].get("provider") == provider
            for a in doc["alerts"]
        )

    def signed(doc: Any, headers: Any, body: bytes) -> bool:
        return doc["provider_id"] == provider and (
            verify(SECRET.encode(), headers, body, time.time()) is not None
        )

    am_doc = _first(hook, "/alerts", from_prometheus, deadline)
    (alert,) = [
        a
        for a in am_doc["alerts"]
        if a["labels"].get("source") == "prometheus" and a["labels"]["provider"] == provider
    ]
    assert (alert["labels"]["rule"], alert["labels"]["article"]) == (RULE, ARTICLE)
    assert alert["annotations"]["evidence"] == f"{CONSOLE}/alerts?provider={provider}&rule={RULE}"

    hook_doc = _first(hook, "/hook", signed, deadline)
    (direct,) = hook_doc["alerts"]
    assert (direct["rule_id"], direct["article"]) == (RULE, ARTICLE)
    assert direct["evidence_url"].startswith(f"{CONSOLE}/cases/")

    via_am = _first(hook, "/alerts", from_dispatcher_via_am, deadline)
    (relayed,) = [
        a
        for a in via_am["alerts"]
        if a["labels"].get("source") == "dispatcher" and a["labels"]["provider"] == provider
    ]
    assert relayed["labels"]["alert_id"] == direct["alert_id"]
    assert relayed["annotations"]["evidence"] == direct["evidence_url"]


def _run(up: RunningUp, hook: Hook) -> None:
    for provider, token in (("late-ai", "tok-late"), ("later-ai", "tok-later")):
        _violate(up, provider, token)
        _arrivals(hook, provider)
    ex = ServerExecutor(up.writer_url)
    try:
        rows = ex.execute(
            "SELECT receiver, state, count() FROM alert_delivery_state"
            " GROUP BY receiver, state ORDER BY receiver"
        )
    finally:
        ex.close()
    assert rows == [("am", "delivered", 2), ("duty", "delivered", 2)]
