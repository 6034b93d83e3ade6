"""Autoscaling children (HPA, KEDA ScaledObject) against the fake API, and never fighting the autoscaler."""

from typing import Any

from manifests import full_set  # pyright: ignore[reportMissingImports]
from writes import writes_to  # pyright: ignore[reportMissingImports]

from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.reconcile.agentruntime import AgentRuntimeReconciler
from omnia_operator.reconcile.kube_source import KINDS, KubeObjectSource
from omnia_operator.settings import AgentImages
from omnia_operator.testing.fakekube import FakeKubeAPI
from omnia_operator.testing.fakekube.keda import SCALED_OBJECT_CRD

NS = "default"


async def _create_all(kube: KubeClient, objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        obj = {**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k not in ("uid", "generation")}}
        await kube.create(KINDS[obj["kind"]], obj)


def _reconciler(kube: KubeClient) -> AgentRuntimeReconciler:
    return AgentRuntimeReconciler(kube, KubeObjectSource(kube), AgentImages(facade_image="f:1", runtime_image="r:1"))


def _runtime(**autoscaling: Any) -> dict[str, Any]:
    return {"replicas": 2, "autoscaling": {"enabled": True, **autoscaling}}


async def _conditions(kube: KubeClient) -> dict[str, dict[str, Any]]:
    agent = await kube.get(kinds.AGENT_RUNTIME, "support", NS)
    return {c["type"]: c for c in agent["status"]["conditions"]}


async def _autoscaler_sets_replicas(kube: KubeClient, replicas: int) -> None:
    deployment = await kube.get(kinds.DEPLOYMENT, "support", NS)
    deployment["spec"]["replicas"] = replicas
    await kube.replace(kinds.DEPLOYMENT, deployment)


async def test_hpa_scales_on_cpu_and_memory_and_the_operator_leaves_replicas_alone(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    await _create_all(kube, full_set(runtime=_runtime(type="hpa", minReplicas=2, maxReplicas=8)))
    reconciler = _reconciler(kube)
    await reconciler.reconcile(NS, "support")
    hpa = await kube.get(kinds.HPA, "support", NS)
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == "support"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 8)
    targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in hpa["spec"]["metrics"]}
    assert targets == {"cpu": 90, "memory": 70}
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert (await _conditions(kube))["AutoscalingReady"]["reason"] == "HPAConfigured"
    await _autoscaler_sets_replicas(kube, 7)
    mark = len(api.request_log)
    await reconciler.reconcile(NS, "support")
    assert writes_to(api, "deployments", "support", since=mark) == 0
    assert (await kube.get(kinds.DEPLOYMENT, "support", NS))["spec"]["replicas"] == 7


async def test_keda_without_its_crd_keeps_static_replicas_and_says_why(api: FakeKubeAPI, kube: KubeClient) -> None:
    await _create_all(kube, full_set(runtime=_runtime(type="keda", minReplicas=0, maxReplicas=5)))
    outcome = await _reconciler(kube).reconcile(NS, "support")
    scaling = (await _conditions(kube))["AutoscalingReady"]
    assert scaling["status"] == "False"
    assert scaling["reason"] == "KEDANotInstalled"
    assert "static replica" in scaling["message"]
    assert (await kube.get(kinds.DEPLOYMENT, "support", NS))["spec"]["replicas"] == 2
    assert outcome.requeue_after is not None
    assert not api.requests(verb="create", resource="scaledobjects")


async def test_keda_scaled_object_scales_on_connections_to_zero_without_the_operator_fighting_it(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    await _create_all(kube, full_set(runtime=_runtime(type="keda", minReplicas=0, maxReplicas=5)))
    reconciler = _reconciler(kube)
    await reconciler.reconcile(NS, "support")
    await kube.create(kinds.CRD, SCALED_OBJECT_CRD)
    await reconciler.reconcile(NS, "support")
    scaled = await kube.get(kinds.SCALED_OBJECT, "support", NS)
    spec = scaled["spec"]
    assert spec["scaleTargetRef"]["name"] == "support"
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (0, 5)
    trigger = spec["triggers"][0]
    assert trigger["type"] == "prometheus"
    assert 'omnia_agent_connections_active{agent="support",namespace="default"}' in trigger["metadata"]["query"]
    assert scaled["metadata"]["ownerReferences"][0]["kind"] == "AgentRuntime"
    conditions = await _conditions(kube)
    assert conditions["AutoscalingReady"]["reason"] == "KEDAConfigured"
    assert "scale to zero" in conditions["AutoscalingReady"]["message"]
    assert conditions["FeaturesSupported"]["status"] == "True"
    await _autoscaler_sets_replicas(kube, 0)
    mark = len(api.request_log)
    await reconciler.reconcile(NS, "support")
    assert writes_to(api, "deployments", "support", since=mark) == 0
    assert writes_to(api, "scaledobjects", "support", since=mark) == 0
    assert (await kube.get(kinds.DEPLOYMENT, "support", NS))["spec"]["replicas"] == 0
