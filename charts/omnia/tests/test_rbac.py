"""The chart's RBAC grants everything the operator does, and the check would notice if it did not.

The operator runs for real (`omnia-operator run`, with the environment the chart's Deployment gives it) against
the project's fake Kubernetes API, which logs every request. It reconciles the examples, a canary rollout, and
two autoscaled agents (an HPA, and a KEDA ScaledObject with KEDA's CRD installed) that are resized and then
switched back to static replicas, so the operator creates, updates and deletes both autoscaler kinds. Every
logged request of the operator must be allowed by the roles the chart binds to its ServiceAccount.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import chart_harness as ch
import pytest
from operator_run import (
    AGENT_NAMESPACE,
    apply,
    example_objects,
    operator_requests,
    running_operator,
)

from omnia_operator.kube import resources as kinds
from omnia_operator.testing import fakekube
from omnia_operator.testing.fakekube.keda import SCALED_OBJECT_CRD

SERVICE_ACCOUNT = "omnia"
EXAMPLE_DIRS = ["quickstart", "tools", "providers"]


def _rbac_objects(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return ch.manifests(ch.render({"leaderElection": {"enabled": True}, **(values or {})}))


# ------------------------------------------------------------------ the checker itself


def test_checker_denies_what_no_rule_grants() -> None:
    objects = _rbac_objects()
    requests = [
        ("create", "", "pods", "", AGENT_NAMESPACE),
        ("delete", "", "secrets", "", AGENT_NAMESPACE),
        ("update", "omnia.altairalabs.ai", "agentruntimes", "scale", AGENT_NAMESPACE),
        ("create", "coordination.k8s.io", "leases", "", AGENT_NAMESPACE),
    ]
    assert ch.rbac_denials(objects, requests, SERVICE_ACCOUNT) == [
        "create coordination.k8s.io/leases in default",
        "create core/pods in default",
        "delete core/secrets in default",
        "update omnia.altairalabs.ai/agentruntimes/scale in default",
    ]


def test_checker_allows_what_the_roles_grant_in_their_scope() -> None:
    objects = _rbac_objects()
    requests = [
        ("watch", "omnia.altairalabs.ai", "agentruntimes", "", None),
        ("patch", "omnia.altairalabs.ai", "agentruntimes", "status", AGENT_NAMESPACE),
        ("create", "apps", "deployments", "", "team-x"),
        ("list", "", "secrets", "", None),
        ("update", "coordination.k8s.io", "leases", "", ch.NAMESPACE),
    ]
    assert ch.rbac_denials(objects, requests, SERVICE_ACCOUNT) == []


def test_namespaced_mode_denies_requests_outside_the_watched_namespaces() -> None:
    objects = _rbac_objects({"operator": {"watchNamespaces": ["team-a"]}})
    requests = [
        ("create", "apps", "deployments", "", "team-a"),
        ("create", "apps", "deployments", "", "team-b"),
        ("list", "omnia.altairalabs.ai", "agentruntimes", "", None),
    ]
    assert ch.rbac_denials(objects, requests, SERVICE_ACCOUNT) == [
        "create apps/deployments in team-b",
        "list omnia.altairalabs.ai/agentruntimes in <cluster>",
    ]


# ------------------------------------------------------------------ the operator against the fake API

EXAMPLE_DIRS = ["quickstart", "tools", "providers"]
# Cluster mode (ClusterRole) and namespaced mode (a Role in the agents' namespace only).
MODES: dict[str, dict[str, Any]] = {"cluster": {}, "namespaced": {"operator": {"watchNamespaces": [AGENT_NAMESPACE]}}}


def _scaled_agent(name: str, autoscaling: dict[str, Any] | None) -> dict[str, Any]:
    """A quickstart-like agent; `autoscaling` None switches autoscaling off."""
    runtime: dict[str, Any] = {"replicas": 1}
    if autoscaling is not None:
        runtime["autoscaling"] = {"enabled": True, **autoscaling}
    return {
        "apiVersion": "omnia.altairalabs.ai/v1alpha1",
        "kind": "AgentRuntime",
        "metadata": {"name": name},
        "spec": {
            "promptPackRef": {"name": "quickstart"},
            "providers": [{"name": "default", "providerRef": {"name": "mock"}}],
            "facades": [{"type": "websocket", "port": 8080}],
            "runtime": runtime,
        },
    }


HPA_AGENT, KEDA_AGENT = "scaled-hpa", "scaled-keda"


def _scaled_agents(max_replicas: int | None) -> list[dict[str, Any]]:
    if max_replicas is None:
        return [_scaled_agent(HPA_AGENT, None), _scaled_agent(KEDA_AGENT, None)]
    return [
        _scaled_agent(HPA_AGENT, {"type": "hpa", "minReplicas": 1, "maxReplicas": max_replicas}),
        _scaled_agent(KEDA_AGENT, {"type": "keda", "minReplicas": 0, "maxReplicas": max_replicas}),
    ]


@pytest.fixture
async def api() -> AsyncIterator[fakekube.FakeKubeAPI]:
    async with fakekube.FakeKubeAPI(crds=[*ch.load_crds().values(), SCALED_OBJECT_CRD]) as server:
        yield server


def _reconciled(api: fakekube.FakeKubeAPI, agents: list[str]) -> bool:
    for name in agents:
        runtime = api.object(kinds.AGENT_RUNTIME, name, AGENT_NAMESPACE)
        if runtime is None or api.object(kinds.DEPLOYMENT, name, AGENT_NAMESPACE) is None:
            return False
        if runtime.get("status", {}).get("observedGeneration") != runtime["metadata"].get("generation"):
            return False
    return True


def _max_replicas(api: fakekube.FakeKubeAPI) -> tuple[int | None, int | None]:
    hpa = api.object(kinds.HPA, HPA_AGENT, AGENT_NAMESPACE)
    scaled = api.object(kinds.SCALED_OBJECT, KEDA_AGENT, AGENT_NAMESPACE)
    return (
        hpa["spec"]["maxReplicas"] if hpa else None,
        scaled["spec"]["maxReplicaCount"] if scaled else None,
    )


@pytest.mark.integration
@pytest.mark.parametrize("mode", sorted(MODES))
async def test_every_request_of_the_operator_reconciling_the_examples_is_granted_by_the_chart(
    mode: str, api: fakekube.FakeKubeAPI, tmp_path: Path
) -> None:
    values = MODES[mode]
    applied = [o for d in EXAMPLE_DIRS for o in example_objects(d)] + _scaled_agents(max_replicas=3)
    await apply(api, applied)
    agents = [o["metadata"]["name"] for o in applied if o["kind"] == "AgentRuntime"]
    first_operator_request = len(api.request_log)
    async with running_operator(api, tmp_path, values) as operator:
        await operator.wait_for(f"{agents} reconciled", lambda: _reconciled(api, agents), timeout=90)
        assert _max_replicas(api) == (3, 3), "the autoscaled agents got no HPA / ScaledObject"
        # A canary rollout: a new pack version rolled out beside the stable pods.
        await apply(api, example_objects("canary"))
        await operator.wait_for(
            "a quickstart-canary Deployment",
            lambda: api.object(kinds.DEPLOYMENT, "quickstart-canary", AGENT_NAMESPACE) is not None,
        )
        # Resized autoscalers are updated in place; switched off, they are deleted.
        await apply(api, _scaled_agents(max_replicas=6))
        await operator.wait_for("HPA and ScaledObject resized to 6", lambda: _max_replicas(api) == (6, 6))
        await apply(api, _scaled_agents(max_replicas=None))
        await operator.wait_for("HPA and ScaledObject deleted", lambda: _max_replicas(api) == (None, None))

    requests = operator_requests(api, since=first_operator_request)
    assert ch.rbac_denials(_rbac_objects(values), requests, SERVICE_ACCOUNT) == []
    made = {(verb, resource) for verb, _, resource, _, _ in requests}
    assert {("create", "deployments"), ("watch", "agentruntimes"), ("create", "leases")} <= made
    for resource in ("horizontalpodautoscalers", "scaledobjects"):
        assert {("create", resource), ("update", resource), ("delete", resource)} <= made, resource
    assert ("list", "scaledobjects") in made  # how the operator learns that KEDA is installed
