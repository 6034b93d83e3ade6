"""The status each reconciler writes reads back through its typed model unchanged, and a repeat writes nothing."""

import copy
import json
from datetime import UTC, datetime
from typing import Any

from manifests import (  # pyright: ignore[reportMissingImports]
    VALID_PACK,
    full_set,
    pack_config_map,
    prompt_pack,
    provider,
    secret,
    tool_registry,
)
from pydantic import BaseModel

from omnia_operator.api.crds import all_crds
from omnia_operator.api.models.agentruntime import AgentRuntimeStatus
from omnia_operator.api.models.promptpack import PromptPackStatus
from omnia_operator.api.models.provider import ProviderStatus
from omnia_operator.api.models.resources import parse_status
from omnia_operator.api.models.toolregistry import ToolRegistryStatus
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.reconcile.agentruntime import AgentRuntimeReconciler
from omnia_operator.reconcile.kube_source import KINDS, KubeObjectSource
from omnia_operator.reconcile.promptpack import PromptPackReconciler
from omnia_operator.reconcile.provider import ProviderReconciler
from omnia_operator.reconcile.toolregistry import ToolRegistryReconciler
from omnia_operator.settings import AgentImages
from omnia_operator.testing.fakekube import FakeKubeAPI

NS = "default"
EARLIER = "2020-01-01T00:00:00Z"
CANARY = {"type": "canary", "canary": {"weight": 25, "stepWeight": 25, "interval": "5m", "progressDeadline": "2m"}}


def _fixed_clock() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


def _assert_reads_back(stored: dict[str, Any], status_type: type[BaseModel]) -> None:
    status = parse_status(stored, status_type)
    assert status != status_type(), "the stored status is readable by its model"
    assert status.model_dump(by_alias=True, exclude_none=True, mode="json") == stored["status"]


async def _backdate(kube: KubeClient, kind: kinds.ResourceKind, name: str, **fields: str) -> None:
    """Move the stored transition/discovery times into the past, as if written by an earlier reconcile."""
    stored = await kube.get(kind, name, NS)
    for item in stored["status"]["conditions"]:
        item["lastTransitionTime"] = EARLIER
    stored["status"].update(fields)
    await kube.replace_status(kind, stored)


async def test_agent_status_reads_back_unchanged_and_a_repeat_writes_nothing(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    for obj in full_set():
        obj = {**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k not in ("uid", "generation")}}
        await kube.create(KINDS[obj["kind"]], obj)
    reconciler = AgentRuntimeReconciler(
        kube, KubeObjectSource(kube), AgentImages(facade_image="f:1", runtime_image="r:1")
    )
    await reconciler.reconcile(NS, "support")
    stored = await kube.get(kinds.AGENT_RUNTIME, "support", NS)
    _assert_reads_back(stored, AgentRuntimeStatus)
    assert stored["status"]["replicas"] == {"desired": 1, "ready": 0, "available": 0}
    await _backdate(kube, kinds.AGENT_RUNTIME, "support")
    before = api.write_count
    await reconciler.reconcile(NS, "support")
    assert api.write_count == before
    conditions = (await kube.get(kinds.AGENT_RUNTIME, "support", NS))["status"]["conditions"]
    assert {c["lastTransitionTime"] for c in conditions} == {EARLIER}


async def test_provider_status_reads_back_unchanged_and_keeps_transition_times(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    await kube.create(kinds.PROVIDER, provider())
    reconciler = ProviderReconciler(kube, KubeObjectSource(kube))
    await reconciler.reconcile(NS, "openai")
    stored = await kube.get(kinds.PROVIDER, "openai", NS)
    _assert_reads_back(stored, ProviderStatus)
    assert [c["type"] for c in stored["status"]["conditions"]] == [
        "ModelValid",
        "CredentialConfigured",
        "Ready",
        "FeaturesSupported",
    ]
    await _backdate(kube, kinds.PROVIDER, "openai")
    before = api.write_count
    await reconciler.reconcile(NS, "openai")
    assert api.write_count == before, "an unchanged provider is not written again"
    await kube.create(kinds.SECRET, secret("openai-key", {"OPENAI_API_KEY": "sk-test"}))
    await reconciler.reconcile(NS, "openai")
    stored = await kube.get(kinds.PROVIDER, "openai", NS)
    times = {c["type"]: c["lastTransitionTime"] for c in stored["status"]["conditions"]}
    assert stored["status"]["phase"] == "Ready"
    assert times["ModelValid"] == EARLIER, "a condition whose status held keeps its time"
    assert times["Ready"] != EARLIER, "a condition whose status flipped gets a new time"


async def test_registry_status_reads_back_unchanged_and_discovery_time_moves_only_on_change(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    await kube.create(kinds.SECRET, secret("weather-token", {"token": "t"}))
    await kube.create(kinds.TOOL_REGISTRY, tool_registry())
    reconciler = ToolRegistryReconciler(kube, KubeObjectSource(kube))
    await reconciler.reconcile(NS, "tools")
    stored = await kube.get(kinds.TOOL_REGISTRY, "tools", NS)
    _assert_reads_back(stored, ToolRegistryStatus)
    assert stored["status"]["phase"] == "Ready"
    assert stored["status"]["discoveredTools"][0]["inputSchema"] == {"type": "object"}
    await _backdate(kube, kinds.TOOL_REGISTRY, "tools", lastDiscoveryTime=EARLIER)
    before = api.write_count
    await reconciler.reconcile(NS, "tools")
    assert api.write_count == before, "an unchanged registry is not written again"
    changed = tool_registry()
    changed["spec"]["handlers"][0]["tool"]["description"] = "Weather by city"
    current = await kube.get(kinds.TOOL_REGISTRY, "tools", NS)
    await kube.replace(kinds.TOOL_REGISTRY, {**current, "spec": changed["spec"]})
    await reconciler.reconcile(NS, "tools")
    stored = await kube.get(kinds.TOOL_REGISTRY, "tools", NS)
    assert stored["status"]["discoveredTools"][0]["description"] == "Weather by city"
    assert stored["status"]["lastDiscoveryTime"] != EARLIER


async def _publish(kube: KubeClient, version: str) -> None:
    """A new pack.json in the pack's ConfigMap and the matching spec.version, as a user publishes one."""
    pack = {**VALID_PACK, "version": version, "description": f"release {version}"}
    config_map = await kube.get(kinds.CONFIG_MAP, "support-pack", NS)
    await kube.replace(kinds.CONFIG_MAP, {**config_map, "data": {"pack.json": json.dumps(pack)}})
    await kube.patch(kinds.PROMPT_PACK, "support", {"spec": {"version": version}}, namespace=NS)


async def test_pack_status_reads_back_unchanged_and_keeps_condition_order_and_times(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    await kube.create(kinds.CONFIG_MAP, pack_config_map())
    await kube.create(kinds.PROMPT_PACK, prompt_pack())
    reconciler = PromptPackReconciler(kube, KubeObjectSource(kube), clock=_fixed_clock)
    await reconciler.reconcile(NS, "support")
    stored = await kube.get(kinds.PROMPT_PACK, "support", NS)
    _assert_reads_back(stored, PromptPackStatus)
    assert set(stored["status"]) == {
        "phase",
        "activeSnapshot",
        "activeVersion",
        "lastUpdated",
        "conditions",
        "observedGeneration",
    }, "no canary field and no agents list while no canary runs"
    assert [c["type"] for c in stored["status"]["conditions"]] == ["SourceValid", "SchemaValid", "Linted"]
    await _backdate(kube, kinds.PROMPT_PACK, "support", lastUpdated=EARLIER)
    before = api.write_count
    await reconciler.reconcile(NS, "support")
    assert api.write_count == before, "an unchanged pack is not written again"
    await kube.patch(kinds.PROMPT_PACK, "support", {"spec": {"skills": [{"source": "faq"}]}}, namespace=NS)
    await reconciler.reconcile(NS, "support")
    status = (await kube.get(kinds.PROMPT_PACK, "support", NS))["status"]
    assert [c["type"] for c in status["conditions"]] == ["SourceValid", "SchemaValid", "Linted", "SkillsResolved"]
    times = {c["type"]: c["lastTransitionTime"] for c in status["conditions"]}
    assert times["SchemaValid"] == times["Linted"] == EARLIER, "conditions whose status held keep their time"
    assert times["SkillsResolved"] != EARLIER
    assert status["lastUpdated"] != EARLIER, "a changed status moves lastUpdated"


async def test_canary_pack_status_reads_back_unchanged_and_a_repeat_writes_nothing(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    for obj in full_set():
        if obj["kind"] == "PromptPack":
            obj["spec"]["rollout"] = CANARY
        await kube.create(KINDS[obj["kind"]], obj)
    reconciler = PromptPackReconciler(kube, KubeObjectSource(kube), clock=_fixed_clock)
    await reconciler.reconcile(NS, "support")
    stable = (await kube.get(kinds.PROMPT_PACK, "support", NS))["status"]["activeSnapshot"]
    await _publish(kube, "1.1.0")
    await reconciler.reconcile(NS, "support")  # the canary starts
    await reconciler.reconcile(NS, "support")  # and waits for the candidate pods of the agent
    stored = await kube.get(kinds.PROMPT_PACK, "support", NS)
    _assert_reads_back(stored, PromptPackStatus)
    status = stored["status"]
    assert (status["phase"], status["activeSnapshot"], status["canaryWeight"]) == ("Canary", stable, 25)
    assert status["canarySnapshot"] != stable
    assert status["trafficWeightEnforced"] is False
    assert status["agents"] == [{"name": "support", "state": "Waiting", "canaryReplicas": 0, "canaryReadyReplicas": 0}]
    before = api.write_count
    await reconciler.reconcile(NS, "support")
    assert api.write_count == before, "a canary waiting at the same step is not written again"
    rollout = {"type": "immediate"}
    await kube.patch(kinds.PROMPT_PACK, "support", {"spec": {"rollout": rollout}}, namespace=NS)
    await reconciler.reconcile(NS, "support")
    stored = await kube.get(kinds.PROMPT_PACK, "support", NS)
    _assert_reads_back(stored, PromptPackStatus)
    assert stored["status"]["activeSnapshot"] == status["canarySnapshot"]
    assert not {"canarySnapshot", "canaryWeight", "agents", "trafficWeightEnforced"} & set(stored["status"])


def _crds_with_a_lax_pack_spec() -> list[dict[str, Any]]:
    """The CRDs, but any PromptPack spec is accepted: how a pack the operator cannot read reaches it."""
    crds = copy.deepcopy(all_crds())
    for crd in crds:
        if crd["spec"]["names"]["kind"] == "PromptPack":
            properties = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
            properties["spec"] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return crds


async def test_unreadable_pack_spec_fails_the_pack_and_keeps_the_schema_condition_time() -> None:
    async with FakeKubeAPI(crds=_crds_with_a_lax_pack_spec()) as api, KubeClient.for_url(api.url) as kube:
        broken = prompt_pack()
        del broken["spec"]["version"]
        await kube.create(kinds.PROMPT_PACK, broken)
        reconciler = PromptPackReconciler(kube, KubeObjectSource(kube), clock=_fixed_clock)
        await reconciler.reconcile(NS, "support")
        stored = await kube.get(kinds.PROMPT_PACK, "support", NS)
        _assert_reads_back(stored, PromptPackStatus)
        status = stored["status"]
        assert set(status) == {"phase", "conditions", "observedGeneration"}
        assert status["phase"] == "Failed"
        [schema] = status["conditions"]
        assert (schema["type"], schema["status"], schema["reason"]) == ("SchemaValid", "False", "InvalidSpec")
        assert "version" in schema["message"], "the message names the field to fix"
        await _backdate(kube, kinds.PROMPT_PACK, "support")
        before = api.write_count
        await reconciler.reconcile(NS, "support")
        assert api.write_count == before, "a pack that stays unreadable is not written again"
