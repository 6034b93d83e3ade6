"""`omnia-operator render` on every example: the objects the operator would create are valid Kubernetes
objects, and the agent pods carry what the chart's NetworkPolicy and PodMonitor select on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import chart_harness as ch
import pytest

pytestmark = pytest.mark.integration  # runs the operator CLI in a subprocess

OPERATOR = Path(sys.executable).parent / "omnia-operator"
# Examples that lean on another directory's objects (the canary updates the quickstart pack).
RENDER_SETS = {
    "quickstart": ["quickstart"],
    "tools": ["tools"],
    "providers": ["quickstart", "providers"],
    "canary": ["quickstart/provider.yaml", "quickstart/agentruntime.yaml", "canary"],
}


def _render(paths: list[str]) -> list[dict[str, Any]]:
    args = [a for p in paths for a in ("-f", str(ch.EXAMPLES_DIR / p))]
    result = subprocess.run([str(OPERATOR), "render", *args], capture_output=True, text=True, timeout=60, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"render failed ({result.returncode}):\n{output[-3000:]}"
    return ch.load_yaml_documents(result.stdout)


def _agent_selectors() -> tuple[dict[str, str], dict[str, str], set[str]]:
    """What the chart selects agent pods by: NetworkPolicy labels, PodMonitor labels and scraped port names."""
    (policy,) = ch.find(ch.manifests(ch.render(ch.CONFIGURATIONS["network-policy"])), "NetworkPolicy")
    (monitor,) = ch.find(ch.manifests(ch.render(ch.CONFIGURATIONS["monitoring"])), "PodMonitor")
    ports = {e["port"] for e in monitor["spec"]["podMetricsEndpoints"]}
    return policy["spec"]["podSelector"]["matchLabels"], monitor["spec"]["selector"]["matchLabels"], ports


@pytest.mark.parametrize("name", sorted(RENDER_SETS))
def test_rendered_agent_objects_are_valid_kubernetes_objects(name: str) -> None:
    objects = _render(RENDER_SETS[name])
    kinds = {o["kind"] for o in objects}
    assert "Deployment" in kinds, f"render printed no Deployment: {sorted(kinds)}"
    builtin = [o for o in objects if not o["apiVersion"].startswith("omnia.altairalabs.ai")]
    assert [p for o in builtin for p in ch.validate_kubernetes(o)] == []


@pytest.mark.parametrize("name", ["quickstart", "tools"])
def test_agent_pods_match_the_chart_network_policy_and_pod_monitor(name: str) -> None:
    policy_labels, monitor_labels, monitor_ports = _agent_selectors()
    deployments = ch.find(_render(RENDER_SETS[name]), "Deployment")
    assert deployments
    for deployment in deployments:
        pod = deployment["spec"]["template"]
        labels = pod["metadata"]["labels"]
        assert policy_labels.items() <= labels.items(), "the NetworkPolicy would not select the agent pods"
        assert monitor_labels.items() <= labels.items(), "the PodMonitor would not select the agent pods"
        ports = {p.get("name"): p["containerPort"] for c in pod["spec"]["containers"] for p in c["ports"]}
        assert {ports.get(n) for n in monitor_ports} == {8081, 9001}, f"PodMonitor ports {monitor_ports} vs {ports}"
        assert {8080, 9000} <= set(ports.values()), "the facade and runtime listen where the NetworkPolicy admits"
