"""The same API behaviour checked against the fake and, when KUBECONFIG points at one, a real cluster.

Each test runs once against `FakeKubeAPI` and once (marked `e2e`, skipped without KUBECONFIG) against the
cluster, in a throw-away namespace, so any difference between the fake and a real API server shows up here.
"""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from omnia_operator.kube import errors
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.resources import CONFIG_MAP, DEPLOYMENT, NAMESPACE
from omnia_operator.testing.fakekube import FakeKubeAPI


@pytest.fixture(params=["fake", pytest.param("cluster", marks=pytest.mark.e2e)])
async def target(request: pytest.FixtureRequest) -> AsyncIterator[tuple[KubeClient, str]]:
    """A client and a namespace to work in."""
    if request.param == "fake":
        async with FakeKubeAPI() as api, KubeClient.for_url(api.url) as client:
            yield client, "default"
        return
    namespace = f"omnia-conformance-{uuid.uuid4().hex[:8]}"
    async with await KubeClient.from_kubeconfig() as client:
        await client.create(NAMESPACE, {"metadata": {"name": namespace}})
        try:
            yield client, namespace
        finally:
            await client.delete(NAMESPACE, namespace)


def deployment(name: str, namespace: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9"}]},
            },
        },
    }


async def test_missing_object_is_not_found(target: tuple[KubeClient, str]) -> None:
    client, namespace = target
    with pytest.raises(errors.NotFoundError) as caught:
        await client.get(CONFIG_MAP, "does-not-exist", namespace)
    assert caught.value.message == 'configmaps "does-not-exist" not found'
    assert caught.value.reason == "NotFound"


async def test_duplicate_create_is_already_exists(target: tuple[KubeClient, str]) -> None:
    client, namespace = target
    await client.create(CONFIG_MAP, {"metadata": {"name": "dup", "namespace": namespace}})
    with pytest.raises(errors.AlreadyExistsError) as caught:
        await client.create(CONFIG_MAP, {"metadata": {"name": "dup", "namespace": namespace}})
    assert caught.value.message == 'configmaps "dup" already exists'


async def test_stale_update_is_a_conflict(target: tuple[KubeClient, str]) -> None:
    client, namespace = target
    first = await client.create(CONFIG_MAP, {"metadata": {"name": "c", "namespace": namespace}, "data": {"a": "1"}})
    await client.replace(CONFIG_MAP, {**first, "data": {"a": "2"}})
    with pytest.raises(errors.ConflictError) as caught:
        await client.replace(CONFIG_MAP, {**first, "data": {"a": "3"}})
    assert "the object has been modified; please apply your changes to the latest version" in caught.value.message


async def test_generation_follows_spec_changes_only(target: tuple[KubeClient, str]) -> None:
    client, namespace = target
    created = await client.create(DEPLOYMENT, deployment("web", namespace))
    assert created["metadata"]["generation"] == 1
    labelled = await client.patch(DEPLOYMENT, "web", {"metadata": {"labels": {"x": "y"}}}, namespace=namespace)
    assert labelled["metadata"]["generation"] == 1
    scaled = await client.patch(DEPLOYMENT, "web", {"spec": {"replicas": 1}}, namespace=namespace)
    assert scaled["metadata"]["generation"] == 2
    assert int(scaled["metadata"]["resourceVersion"]) > int(labelled["metadata"]["resourceVersion"])


async def test_merge_patch_null_removes_and_json_patch_test_failure_is_invalid(target: tuple[KubeClient, str]) -> None:
    client, namespace = target
    body = {"metadata": {"name": "c", "namespace": namespace}, "data": {"a": "1", "b": "2"}}
    await client.create(CONFIG_MAP, body)
    patched = await client.patch(CONFIG_MAP, "c", {"data": {"a": None}}, namespace=namespace)
    assert patched["data"] == {"b": "2"}
    with pytest.raises(errors.InvalidError):
        await client.patch(
            CONFIG_MAP, "c", [{"op": "test", "path": "/data/b", "value": "9"}], namespace=namespace, patch_type="json"
        )


async def test_list_selects_by_label_and_watch_resumes_from_its_version(target: tuple[KubeClient, str]) -> None:
    client, namespace = target
    await client.create(CONFIG_MAP, {"metadata": {"name": "x", "namespace": namespace, "labels": {"t": "conf"}}})
    await client.create(CONFIG_MAP, {"metadata": {"name": "y", "namespace": namespace}})
    listed = await client.list(CONFIG_MAP, namespace, label_selector="t=conf")
    assert [item["metadata"]["name"] for item in listed.items] == ["x"]
    await client.create(CONFIG_MAP, {"metadata": {"name": "z", "namespace": namespace, "labels": {"t": "conf"}}})
    watch = client.watch(
        CONFIG_MAP, namespace=namespace, resource_version=listed.resource_version, label_selector="t=conf"
    )
    async with asyncio.timeout(30), contextlib.aclosing(watch):
        async for event in watch:
            if event.type == "BOOKMARK":
                continue
            assert (event.type, event.object["metadata"]["name"]) == ("ADDED", "z")
            break
