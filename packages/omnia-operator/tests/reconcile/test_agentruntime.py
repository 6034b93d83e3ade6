"""The AgentRuntime reconcile against the fake API server: the seed's flow, idempotency, recovery."""

from typing import Any

import pytest
from manifests import full_set, secret  # pyright: ignore[reportMissingImports]

from omnia_operator.api.models.agentruntime import AgentRuntimeStatus
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import NotFoundError, TransientKubeError
from omnia_operator.reconcile.agentruntime import FINALIZER, AgentRuntimeReconciler
from omnia_operator.reconcile.kube_source import KINDS, KubeObjectSource
from omnia_operator.reconcile.status_writer import write_status
from omnia_operator.settings import AgentImages
from omnia_operator.testing.fakekube import FakeKubeAPI

NS = "default"


async def _create_all(kube: KubeClient, objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        obj = {**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k not in ("uid", "generation")}}
        await kube.create(KINDS[obj["kind"]], obj)


def _reconciler(kube: KubeClient) -> AgentRuntimeReconciler:
    return AgentRuntimeReconciler(kube, KubeObjectSource(kube), AgentImages(facade_image="f:1", runtime_image="r:1"))


def _conditions(agent: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in agent["status"]["conditions"]}


async def _agent(kube: KubeClient) -> dict[str, Any]:
    return await kube.get(kinds.AGENT_RUNTIME, "support", NS)


async def _make_deployment_ready(kube: KubeClient) -> None:
    deployment = await kube.get(kinds.DEPLOYMENT, "support", NS)
    deployment["status"] = {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1}
    await kube.replace_status(kinds.DEPLOYMENT, deployment)


async def test_reconcile_creates_children_finalizer_and_status(api: FakeKubeAPI, kube: KubeClient) -> None:
    await _create_all(kube, full_set())
    reconciler = _reconciler(kube)
    await reconciler.reconcile(NS, "support")
    agent = await _agent(kube)
    assert FINALIZER in agent["metadata"]["finalizers"]
    deployment = await kube.get(kinds.DEPLOYMENT, "support", NS)
    service = await kube.get(kinds.SERVICE, "support", NS)
    assert deployment["metadata"]["ownerReferences"][0]["uid"] == agent["metadata"]["uid"]
    assert service["spec"]["ports"][0]["port"] == 8080
    assert agent["status"]["phase"] == "Pending"
    assert agent["status"]["observedGeneration"] == agent["metadata"]["generation"]
    assert agent["status"]["activeVersion"] == "1.0.0"
    assert agent["status"]["serviceEndpoint"] == "support.default.svc.cluster.local:8080"
    conditions = _conditions(agent)
    for name in ("PromptPackReady", "ProviderReady", "ToolRegistryReady", "DeploymentReady", "ServiceReady"):
        assert conditions[name]["status"] == "True", conditions[name]
    assert conditions["Ready"]["reason"] == "RuntimeNotReady"
    await _make_deployment_ready(kube)
    await reconciler.reconcile(NS, "support")
    agent = await _agent(kube)
    assert agent["status"]["phase"] == "Running"
    assert _conditions(agent)["Ready"]["status"] == "True"
    assert agent["status"]["replicas"] == {"desired": 1, "ready": 1, "available": 1}


async def test_second_reconcile_writes_nothing(api: FakeKubeAPI, kube: KubeClient) -> None:
    await _create_all(kube, full_set())
    reconciler = _reconciler(kube)
    await reconciler.reconcile(NS, "support")
    before = api.write_count
    await reconciler.reconcile(NS, "support")
    assert api.write_count == before


async def test_missing_provider_secret_sets_condition_false_then_ready_when_it_appears(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    await _create_all(kube, [o for o in full_set() if o["kind"] != "Secret"])
    reconciler = _reconciler(kube)
    outcome = await reconciler.reconcile(NS, "support")
    agent = await _agent(kube)
    assert outcome.requeue_after is not None
    assert agent["status"]["phase"] == "Failed"
    assert _conditions(agent)["ProviderReady"]["reason"] == "SecretNotFound"
    assert "openai-key" in _conditions(agent)["ProviderReady"]["message"]
    with pytest.raises(NotFoundError):
        await kube.get(kinds.DEPLOYMENT, "support", NS)
    await kube.create(kinds.SECRET, secret("openai-key", {"OPENAI_API_KEY": "sk"}))
    await reconciler.reconcile(NS, "support")
    agent = await _agent(kube)
    assert _conditions(agent)["ProviderReady"]["status"] == "True"
    assert agent["status"]["phase"] == "Pending"
    await kube.get(kinds.DEPLOYMENT, "support", NS)


async def test_deleted_child_is_recreated(api: FakeKubeAPI, kube: KubeClient) -> None:
    await _create_all(kube, full_set())
    reconciler = _reconciler(kube)
    await reconciler.reconcile(NS, "support")
    await kube.delete(kinds.SERVICE, "support", namespace=NS)
    await reconciler.reconcile(NS, "support")
    assert (await kube.get(kinds.SERVICE, "support", NS))["spec"]["ports"][0]["port"] == 8080


async def test_hand_edited_deployment_is_put_back(api: FakeKubeAPI, kube: KubeClient) -> None:
    await _create_all(kube, full_set())
    reconciler = _reconciler(kube)
    await reconciler.reconcile(NS, "support")
    deployment = await kube.get(kinds.DEPLOYMENT, "support", NS)
    deployment["spec"]["replicas"] = 7
    deployment["spec"]["template"]["spec"]["containers"][1]["image"] = "evil:latest"
    await kube.replace(kinds.DEPLOYMENT, deployment)
    await reconciler.reconcile(NS, "support")
    restored = await kube.get(kinds.DEPLOYMENT, "support", NS)
    assert restored["spec"]["replicas"] == 1
    assert restored["spec"]["template"]["spec"]["containers"][1]["image"] == "r:1"


async def test_secret_rotation_changes_the_pod_config_hash(api: FakeKubeAPI, kube: KubeClient) -> None:
    await _create_all(kube, full_set())
    reconciler = _reconciler(kube)
    await reconciler.reconcile(NS, "support")
    key = "omnia.altairalabs.ai/config-hash"
    before = (await kube.get(kinds.DEPLOYMENT, "support", NS))["spec"]["template"]["metadata"]["annotations"][key]
    stored = await kube.get(kinds.SECRET, "openai-key", NS)
    stored["data"] = secret("x", {"OPENAI_API_KEY": "sk-rotated"})["data"]
    await kube.replace(kinds.SECRET, stored)
    await reconciler.reconcile(NS, "support")
    after = (await kube.get(kinds.DEPLOYMENT, "support", NS))["spec"]["template"]["metadata"]["annotations"][key]
    assert before != after


async def test_deletion_removes_the_finalizer_and_children_are_collected(api: FakeKubeAPI, kube: KubeClient) -> None:
    await _create_all(kube, full_set())
    reconciler = _reconciler(kube)
    await reconciler.reconcile(NS, "support")
    await kube.delete(kinds.AGENT_RUNTIME, "support", namespace=NS)
    assert (await _agent(kube))["metadata"].get("deletionTimestamp")
    await reconciler.reconcile(NS, "support")
    with pytest.raises(NotFoundError):
        await _agent(kube)
    api.collect_garbage()
    with pytest.raises(NotFoundError):
        await kube.get(kinds.DEPLOYMENT, "support", NS)
    with pytest.raises(NotFoundError):
        await kube.get(kinds.SERVICE, "support", NS)


async def test_status_write_retries_against_a_fresh_copy_when_the_resource_version_is_stale(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    await _create_all(kube, full_set())
    await _reconciler(kube).reconcile(NS, "support")
    stale = await _agent(kube)
    fresh = await _agent(kube)
    fresh["metadata"].setdefault("labels", {})["touched"] = "yes"
    await kube.replace(kinds.AGENT_RUNTIME, fresh)
    conflicts_before = len([r for r in api.request_log if r.verb == "update"])
    running = AgentRuntimeStatus.model_validate({**stale["status"], "phase": "Running"})
    wrote = await write_status(kube, kinds.AGENT_RUNTIME, stale, running)
    assert wrote is True
    assert (await _agent(kube))["status"]["phase"] == "Running"
    assert len([r for r in api.request_log if r.verb == "update"]) >= conflicts_before + 2  # stale try + retry


async def test_child_update_retries_when_the_child_changes_underneath(api: FakeKubeAPI, kube: KubeClient) -> None:
    await _create_all(kube, full_set())
    await _reconciler(kube).reconcile(NS, "support")
    api.faults.error_rate = 0.3  # 5xx on some requests: the client retries, the reconcile still converges
    deployment = await kube.get(kinds.DEPLOYMENT, "support", NS)
    deployment["spec"]["replicas"] = 3
    await kube.replace(kinds.DEPLOYMENT, deployment)
    for _ in range(5):
        try:
            await _reconciler(kube).reconcile(NS, "support")
            break
        except TransientKubeError:
            continue
    api.faults.error_rate = 0.0
    assert (await kube.get(kinds.DEPLOYMENT, "support", NS))["spec"]["replicas"] == 1


async def test_transitions_are_recorded_as_events(api: FakeKubeAPI, kube: KubeClient) -> None:
    await _create_all(kube, [o for o in full_set() if o["kind"] != "Secret"])
    await _reconciler(kube).reconcile(NS, "support")
    events = (await kube.list(kinds.EVENT, NS)).items
    reasons = {(e["type"], e["reason"]) for e in events}
    assert ("Warning", "SecretNotFound") in reasons
