"""The status each reconciler writes reads back through its typed model unchanged, and a repeat writes nothing."""

from typing import Any

from manifests import full_set, provider, secret, tool_registry  # pyright: ignore[reportMissingImports]
from pydantic import BaseModel

from omnia_operator.api.models.agentruntime import AgentRuntimeStatus
from omnia_operator.api.models.provider import ProviderStatus
from omnia_operator.api.models.resources import parse_status
from omnia_operator.api.models.toolregistry import ToolRegistryStatus
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.reconcile.agentruntime import AgentRuntimeReconciler
from omnia_operator.reconcile.kube_source import KINDS, KubeObjectSource
from omnia_operator.reconcile.provider import ProviderReconciler
from omnia_operator.reconcile.toolregistry import ToolRegistryReconciler
from omnia_operator.settings import AgentImages
from omnia_operator.testing.fakekube import FakeKubeAPI

NS = "default"
EARLIER = "2020-01-01T00:00:00Z"


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
