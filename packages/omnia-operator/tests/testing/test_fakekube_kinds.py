"""CRD registration, discovery and compatibility with kubernetes-asyncio's own API classes."""

import copy

import aiohttp
import pytest
from kubernetes_asyncio import client as k8s

from omnia_operator.kube import errors
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.resources import (
    CRD,
    EVENT,
    HPA,
    LEASE,
    PDB,
    POD,
    ROLE,
    ROLE_BINDING,
    SERVICE,
    SERVICE_ACCOUNT,
    ResourceKind,
)
from omnia_operator.testing.fakekube import FakeKubeAPI

WIDGET = ResourceKind("example.com", "v1", "Widget", "widgets")


async def get_json(api: FakeKubeAPI, path: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.get(api.url + path) as response:
        return response.status, await response.json()


async def test_creating_a_crd_serves_its_kind_and_reports_established(kube: KubeClient, widget_crd: dict) -> None:
    with pytest.raises(errors.NotFoundError):
        await kube.list(WIDGET, "default")
    crd = await kube.create(CRD, copy.deepcopy(widget_crd))
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions["Established"] == "True"
    widget = await kube.create(WIDGET, {"metadata": {"name": "w", "namespace": "default"}, "spec": {"size": 1}})
    assert widget["apiVersion"] == "example.com/v1"
    assert widget["metadata"]["generation"] == 1


async def test_custom_resource_update_without_resource_version_is_422(
    api: FakeKubeAPI, kube: KubeClient, widget_crd: dict
) -> None:
    api.register_crds([widget_crd])
    await kube.create(WIDGET, {"metadata": {"name": "w", "namespace": "default"}})
    with pytest.raises(errors.InvalidError) as caught:
        await kube.replace(WIDGET, {"metadata": {"name": "w", "namespace": "default"}, "spec": {}})
    assert "metadata.resourceVersion" in caught.value.message


async def test_deleting_a_crd_deletes_its_objects_and_stops_serving_the_kind(
    api: FakeKubeAPI, kube: KubeClient, widget_crd: dict
) -> None:
    api.register_crds([widget_crd])
    await kube.create(WIDGET, {"metadata": {"name": "w", "namespace": "default"}})
    await kube.delete(CRD, "widgets.example.com")
    with pytest.raises(errors.NotFoundError):
        await kube.get(WIDGET, "w", "default")
    api.register_crds([widget_crd])
    assert (await kube.list(WIDGET)).items == []


async def test_cluster_scoped_custom_kind_is_served_without_namespace(
    api: FakeKubeAPI, kube: KubeClient, widget_crd: dict
) -> None:
    crd = copy.deepcopy(widget_crd)
    crd["spec"]["scope"] = "Cluster"
    api.register_crds([crd])
    cluster_widget = ResourceKind("example.com", "v1", "Widget", "widgets", namespaced=False)
    created = await kube.create(cluster_widget, {"metadata": {"name": "global"}})
    assert "namespace" not in created["metadata"]
    assert (await kube.get(cluster_widget, "global"))["metadata"]["uid"] == created["metadata"]["uid"]


async def test_discovery_lists_core_groups_and_registered_kinds(api: FakeKubeAPI, widget_crd: dict) -> None:
    api.register_crds([widget_crd])
    status, versions = await get_json(api, "/api")
    assert status == 200
    assert versions["versions"] == ["v1"]
    _, groups = await get_json(api, "/apis")
    names = {g["name"] for g in groups["groups"]}
    assert {"apps", "coordination.k8s.io", "autoscaling", "apiextensions.k8s.io", "example.com"} <= names
    _, resources = await get_json(api, "/apis/example.com/v1")
    by_name = {r["name"]: r for r in resources["resources"]}
    assert by_name["widgets"]["kind"] == "Widget"
    assert by_name["widgets"]["shortNames"] == ["wd"]
    assert "widgets/status" in by_name
    _, core = await get_json(api, "/api/v1")
    assert {"configmaps", "secrets", "services", "events", "pods"} <= {r["name"] for r in core["resources"]}
    status, _ = await get_json(api, "/apis/nothing.example/v1")
    assert status == 404


async def test_kubernetes_asyncio_typed_apis_work_unchanged(api: FakeKubeAPI) -> None:
    configuration = k8s.Configuration(host=api.url)
    async with k8s.ApiClient(configuration) as api_client:
        core = k8s.CoreV1Api(api_client)
        body = k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="typed", labels={"a": "b"}), data={"k": "v"})
        created = await core.create_namespaced_config_map("default", body)
        assert created.metadata.uid
        listed = await core.list_namespaced_config_map("default", label_selector="a=b")
        assert [item.metadata.name for item in listed.items] == ["typed"]
        with pytest.raises(k8s.ApiException) as caught:
            await core.read_namespaced_config_map("missing", "default")
        assert caught.value.status == 404
        apps = k8s.AppsV1Api(api_client)
        deployment = k8s.V1Deployment(
            metadata=k8s.V1ObjectMeta(name="web"),
            spec=k8s.V1DeploymentSpec(
                selector=k8s.V1LabelSelector(match_labels={"app": "web"}),
                template=k8s.V1PodTemplateSpec(
                    metadata=k8s.V1ObjectMeta(labels={"app": "web"}),
                    spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="c", image="busybox")]),
                ),
            ),
        )
        await apps.create_namespaced_deployment("default", deployment)
        patched = await apps.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 3}})
        assert patched.spec.replicas == 3
        assert patched.metadata.generation == 2


@pytest.mark.parametrize("kind", [SERVICE_ACCOUNT, PDB, ROLE, ROLE_BINDING, LEASE, HPA, EVENT, POD, SERVICE])
async def test_builtin_kinds_the_operator_writes_are_served(kube: KubeClient, kind: ResourceKind) -> None:
    created = await kube.create(kind, {"metadata": {"name": "x", "namespace": "default"}})
    assert created["kind"] == kind.kind
    assert created["apiVersion"] == kind.api_version
    listed = await kube.list(kind, "default")
    assert [item["metadata"]["name"] for item in listed.items] == ["x"]
