"""The examples converge to meaningful statuses when the real operator reconciles them against the fake API.

Asserted is what is deterministic without a cluster: the fake runs no pods (so a test step plays the kubelet
and marks the stable Deployments' pods ready), and the tools example's MCP and OpenAPI servers are cluster DNS
names that do not resolve here (so only the HTTP tool, which needs no discovery, is asserted available).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import chart_harness as ch
import httpx
import pytest
from operator_run import (
    AGENT_NAMESPACE,
    TEST_FIELD_MANAGER,
    RunningOperator,
    apply,
    example_objects,
    running_operator,
)

from omnia_operator.kube import resources as kinds
from omnia_operator.kube.resources import ResourceKind
from omnia_operator.testing import fakekube

AGENTS = {"quickstart": "quickstart", "tools": "support", "providers": "assistant-openai"}
AGENT_DEPENDENCIES = ["PromptPackReady", "ToolRegistryReady", "ProviderReady", "ContextStoreReady"]


def _status(api: fakekube.FakeKubeAPI, kind: ResourceKind, name: str) -> dict[str, Any]:
    obj = api.object(kind, name, AGENT_NAMESPACE)
    assert obj is not None, f"{kind.kind} {name} is gone"
    return obj.get("status") or {}


def _conditions(api: fakekube.FakeKubeAPI, kind: ResourceKind, name: str) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in _status(api, kind, name).get("conditions", [])}


def _observed(api: fakekube.FakeKubeAPI, kind: ResourceKind, name: str) -> bool:
    obj = api.object(kind, name, AGENT_NAMESPACE)
    return obj is not None and (obj.get("status") or {}).get("observedGeneration") == obj["metadata"]["generation"]


def _all_observed(api: fakekube.FakeKubeAPI, objects: list[dict[str, Any]]) -> bool:
    kinds_by_name = {k.kind: k for k in (kinds.PROVIDER, kinds.TOOL_REGISTRY, kinds.PROMPT_PACK, kinds.AGENT_RUNTIME)}
    return all(
        _observed(api, kinds_by_name[o["kind"]], o["metadata"]["name"]) for o in objects if o["kind"] in kinds_by_name
    )


async def _pods_become_ready(api: fakekube.FakeKubeAPI, name: str) -> None:
    """Play the kubelet and the Deployment controller: every replica of Deployment `name` ready."""
    path = f"/apis/apps/v1/namespaces/{AGENT_NAMESPACE}/deployments/{name}/status"
    async with httpx.AsyncClient(base_url=api.url, timeout=10, params={"fieldManager": TEST_FIELD_MANAGER}) as client:
        response: httpx.Response | None = None
        for _ in range(5):  # the operator may write the Deployment meanwhile: 409, read again
            deployment = (await client.get(path)).json()
            replicas = deployment["spec"].get("replicas", 1)
            deployment["status"] = {
                "observedGeneration": deployment["metadata"]["generation"],
                "replicas": replicas,
                "updatedReplicas": replicas,
                "readyReplicas": replicas,
                "availableReplicas": replicas,
            }
            response = await client.put(path, json=deployment)
            if response.status_code != 409:
                break
        assert response is not None
        assert response.status_code == 200, response.text


@pytest.fixture
async def api() -> AsyncIterator[fakekube.FakeKubeAPI]:
    async with fakekube.FakeKubeAPI(crds=list(ch.load_crds().values())) as server:
        yield server


@pytest.fixture
async def converged(api: fakekube.FakeKubeAPI, tmp_path: Path) -> AsyncIterator[RunningOperator]:
    """The quickstart, tools and providers examples applied and reconciled by a running operator."""
    objects = [o for d in AGENTS for o in example_objects(d)]
    await apply(api, objects)
    async with running_operator(api, tmp_path, {}) as operator:
        await operator.wait_for("every example's status observed", lambda: _all_observed(api, objects), timeout=90)
        yield operator


@pytest.mark.integration
async def test_examples_converge_to_ready_providers_valid_registries_active_packs_and_resolved_agents(
    api: fakekube.FakeKubeAPI, converged: RunningOperator
) -> None:
    for provider in ("mock", "tools-mock", "openai", "claude"):
        status = _status(api, kinds.PROVIDER, provider)
        assert status["phase"] == "Ready", provider
        conditions = _conditions(api, kinds.PROVIDER, provider)
        assert conditions["Ready"][0] == "True", provider
        assert conditions["CredentialConfigured"] == ("True", "CredentialConfigured"), provider
    openai = {c["type"]: c for c in _status(api, kinds.PROVIDER, "openai")["conditions"]}
    assert "openai-credentials" in openai["CredentialConfigured"]["message"]

    registry = _status(api, kinds.TOOL_REGISTRY, "support-tools")
    assert _conditions(api, kinds.TOOL_REGISTRY, "support-tools")["HandlersValid"] == ("True", "HandlersValid")
    tools = {t["handlerName"]: t for t in registry["discoveredTools"]}
    assert set(tools) == {"weather", "docs-search", "orders"}
    assert (tools["weather"]["name"], tools["weather"]["status"]) == ("get_weather", "Available")
    assert registry["phase"] in ("Ready", "Degraded")  # Degraded unless the cluster DNS names resolve

    for pack in ("quickstart", "support"):
        status = _status(api, kinds.PROMPT_PACK, pack)
        assert (status["phase"], status["activeVersion"]) == ("Active", "1.0.0"), pack
        assert _conditions(api, kinds.PROMPT_PACK, pack)["SchemaValid"] == ("True", "PackValid"), pack

    for example, agent in AGENTS.items():
        conditions = _conditions(api, kinds.AGENT_RUNTIME, agent)
        assert {t: conditions[t][0] for t in AGENT_DEPENDENCIES} == dict.fromkeys(AGENT_DEPENDENCIES, "True"), example
        status = _status(api, kinds.AGENT_RUNTIME, agent)
        assert status["serviceEndpoint"] == f"{agent}.{AGENT_NAMESPACE}.svc.cluster.local:8080", example
        assert conditions["Ready"] == ("False", "RuntimeNotReady"), example  # no pod is ready yet
    assert _conditions(api, kinds.AGENT_RUNTIME, "support")["ToolRegistryReady"][1] == "ToolRegistryResolved"

    # The pods become ready: every agent turns Ready.
    for agent in AGENTS.values():
        await _pods_become_ready(api, agent)
    await converged.wait_for(
        "every agent Ready once its pods are",
        lambda: all(_conditions(api, kinds.AGENT_RUNTIME, a).get("Ready", ("",))[0] == "True" for a in AGENTS.values()),
    )
    assert {_status(api, kinds.AGENT_RUNTIME, a)["phase"] for a in AGENTS.values()} == {"Running"}


@pytest.mark.integration
async def test_canary_example_starts_a_rollout_at_its_first_weight_beside_the_stable_version(
    api: fakekube.FakeKubeAPI, converged: RunningOperator
) -> None:
    await apply(api, example_objects("canary"))
    await converged.wait_for(
        "the quickstart pack in phase Canary",
        lambda: _status(api, kinds.PROMPT_PACK, "quickstart").get("phase") == "Canary",
    )
    pack = _status(api, kinds.PROMPT_PACK, "quickstart")
    assert (pack["activeVersion"], pack["canaryVersion"], pack["canaryWeight"]) == ("1.0.0", "1.1.0", 10)
    assert _conditions(api, kinds.PROMPT_PACK, "quickstart")["SchemaValid"] == ("True", "PackValid")
    assert {a["name"]: a["state"] for a in pack["agents"]} == {"quickstart": "Canary", "assistant-openai": "Canary"}
    assert pack["trafficWeightEnforced"] is False  # the split is by replica count
    await converged.wait_for(
        "the quickstart agent's rollout status",
        lambda: "rollout" in _status(api, kinds.AGENT_RUNTIME, "quickstart"),
    )
    rollout = _status(api, kinds.AGENT_RUNTIME, "quickstart")["rollout"]
    assert rollout["active"] is True
    assert (rollout["stableVersion"], rollout["candidateVersion"], rollout["currentWeight"]) == ("1.0.0", "1.1.0", 10)
    canary = api.object(kinds.DEPLOYMENT, "quickstart-canary", AGENT_NAMESPACE)
    assert canary is not None
    assert canary["spec"]["replicas"] >= 1
    assert _status(api, kinds.PROMPT_PACK, "support")["phase"] == "Active"  # another pack is untouched
