"""Where alerts go: receivers read from a JSON file (``JIANGUAN_ALERT_RECEIVERS_FILE``).

    {"console_url": "https://jianguan.example.gov.cn",
     "receivers": [
        {"name": "cac-duty", "kind": "webhook", "url": "https://…/hook",
         "secret_env": "CAC_HOOK_SECRET", "min_severity": "high", "providers": ["acme-ai"],
         "authority": "cac-bj"},
        {"name": "ops-am", "kind": "alertmanager", "url": "http://127.0.0.1:9093"}]}

A webhook needs a secret (``secret`` inline, or ``secret_env`` naming an environment variable the
caller resolved); every body sent to it is signed. Errors name the receiver and the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SEVERITIES = ("low", "medium", "high", "critical")
KINDS = ("webhook", "alertmanager")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Receiver:
    name: str
    kind: str
    url: str
    secret: bytes = b""
    min_severity: str = "low"
    providers: frozenset[str] = frozenset()  # empty: every provider
    # The authority whose confidential alerts (its inspections, Art. 19 ¶2) it receives; a
    # receiver without one receives none.
    authority: str = ""
    max_attempts: int = 10
    base_delay_s: float = 0.5
    max_delay_s: float = 60.0
    timeout_s: float = 10.0

    def wants(self, severity: str, provider_id: str, confidential_to: str | None = None) -> bool:
        """``confidential_to``: the only authority that may see the alert (None: any)."""
        if confidential_to is not None and (
            not self.authority or confidential_to != self.authority
        ):
            return False
        rank = SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)
        if rank < SEVERITIES.index(self.min_severity):
            return False
        return not self.providers or provider_id in self.providers


@dataclass(frozen=True, slots=True)
class AlertingConfig:
    console_url: str
    receivers: tuple[Receiver, ...]


def parse(
    text: str, env: Mapping[str, str], default_console_url: str = "http://127.0.0.1:8080"
) -> AlertingConfig:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ConfigError("expected an object with 'receivers'")
    receivers = []
    names: set[str] = set()
    for i, r in enumerate(doc.get("receivers", [])):
        receivers.append(_receiver(i, r, env))
        if receivers[-1].name in names:
            raise ConfigError(f"receivers[{i}]: name {receivers[-1].name!r} is used twice")
        names.add(receivers[-1].name)
    console = str(doc.get("console_url", default_console_url)).rstrip("/")
    return AlertingConfig(console, tuple(receivers))


def _receiver(i: int, r: Any, env: Mapping[str, str]) -> Receiver:
    where = f"receivers[{i}]"
    if not isinstance(r, dict):
        raise ConfigError(f"{where}: expected an object")
    for key in ("name", "kind", "url"):
        if not isinstance(r.get(key), str) or not r[key]:
            raise ConfigError(f"{where}.{key}: required (a non-empty string)")
    if r["kind"] not in KINDS:
        raise ConfigError(f"{where}.kind: {r['kind']!r} is not one of {', '.join(KINDS)}")
    if not r["url"].startswith(("http://", "https://")):
        raise ConfigError(f"{where}.url: must be an http(s) URL")
    secret = r.get("secret", "")
    if r.get("secret_env"):
        if r["secret_env"] not in env:
            raise ConfigError(f"{where}.secret_env: {r['secret_env']} is not set")
        secret = env[r["secret_env"]]
    if r["kind"] == "webhook" and len(secret) < 16:
        raise ConfigError(f"{where}: a webhook needs a secret of at least 16 characters")
    severity = r.get("min_severity", "low")
    if severity not in SEVERITIES:
        raise ConfigError(f"{where}.min_severity: use one of {', '.join(SEVERITIES)}")
    return Receiver(
        name=r["name"],
        kind=r["kind"],
        url=r["url"].rstrip("/"),
        secret=secret.encode(),
        min_severity=severity,
        providers=frozenset(r.get("providers", ())),
        authority=str(r.get("authority", "")),
        max_attempts=int(r.get("max_attempts", 10)),
        base_delay_s=float(r.get("base_delay_s", 0.5)),
        max_delay_s=float(r.get("max_delay_s", 60.0)),
        timeout_s=float(r.get("timeout_s", 10.0)),
    )
