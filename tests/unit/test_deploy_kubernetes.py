"""deploy/kubernetes: every manifest valid against Kubernetes 1.37's API schemas (kubernetes-
validate, strict: an unknown field is an error), every file in the kustomization, each container
running a real `jianguan` command, every service process of `jianguan up` deployed, every setting
in the ConfigMap one the code reads, and every pod locked down."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.unit.deploy_commands import SERVICES, command_of, settings_read

MANIFESTS = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
KUBERNETES = "1.37.0"


def _resources() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for f in sorted(MANIFESTS.glob("*.yaml")):
        if f.name != "kustomization.yaml":
            out += [(f.name, doc) for doc in yaml.safe_load_all(f.read_text()) if doc]
    return out


def _pods() -> list[tuple[str, dict[str, Any]]]:
    return [
        (doc["metadata"]["name"], doc["spec"]["template"]["spec"])
        for _, doc in _resources()
        if doc["kind"] in ("Deployment", "StatefulSet", "Job")
    ]


def test_every_manifest_is_valid_for_kubernetes_1_37_strictly() -> None:
    resources = _resources()
    assert len(resources) > 15
    for name, doc in resources:
        try:
            kubernetes_validate.validate(doc, KUBERNETES, strict=True)
        except kubernetes_validate.ValidationError as exc:  # pragma: no cover - the failure
            pytest.fail(f"{name}: {doc['kind']}/{doc['metadata']['name']}: {exc}")


def test_a_broken_manifest_is_refused() -> None:
    """The check can fail: a misspelt field in a Deployment."""
    doc = copy.deepcopy(next(d for _, d in _resources() if d["kind"] == "Deployment"))
    doc["spec"]["replicaz"] = doc["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError, match="replicaz"):
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_the_kustomization_lists_every_file() -> None:
    listed = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())["resources"]
    present = {f.name for f in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(listed) == sorted(present)


def test_every_container_runs_a_real_command_and_every_service_is_deployed() -> None:
    commands = set()
    for name, pod in _pods():
        for c in pod["containers"]:
            assert c["image"] == "jianguan", name
            commands.add(command_of(c["args"]))
    assert commands >= SERVICES | {"prepare"}


def test_every_setting_is_one_the_code_reads() -> None:
    read = settings_read()
    config = next(d for _, d in _resources() if d["kind"] == "ConfigMap")
    names = set(config["data"])
    for _, pod in _pods():
        for c in pod["containers"]:
            names |= {e["name"] for e in c.get("env", [])}
    assert names - read == set()


def test_every_pod_is_locked_down() -> None:
    for name, pod in _pods():
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert "memory" in c["resources"]["limits"], name
