"""Finalizers, deletionTimestamp and owner-reference garbage collection, as documented for Kubernetes."""

from typing import Any

import aiohttp
import pytest

from omnia_operator.kube import errors
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.resources import CONFIG_MAP, DEPLOYMENT, SECRET, SERVICE
from omnia_operator.testing.fakekube import FakeKubeAPI
from omnia_operator.testing.timing import eventually


def owned_by(owner: dict[str, Any], name: str, **extra: Any) -> dict[str, Any]:
    reference = {
        "apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True,
    }  # fmt: skip
    return {"metadata": {"name": name, "namespace": "default", "ownerReferences": [reference]}, **extra}


async def exists(kube: KubeClient, kind: Any, name: str) -> bool:
    try:
        await kube.get(kind, name, "default")
    except errors.NotFoundError:
        return False
    return True


async def test_delete_with_finalizer_only_marks_the_object(kube: KubeClient) -> None:
    await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default", "finalizers": ["example.com/x"]}})
    marked = await kube.delete(CONFIG_MAP, "a", namespace="default")
    assert marked is not None
    assert marked["metadata"]["deletionTimestamp"].endswith("Z")
    still = await kube.get(CONFIG_MAP, "a", "default")
    assert still["metadata"]["finalizers"] == ["example.com/x"]
    again = await kube.delete(CONFIG_MAP, "a", namespace="default")
    assert again is not None
    assert again["metadata"]["resourceVersion"] == still["metadata"]["resourceVersion"], "a second delete is a no-op"


async def test_removing_the_last_finalizer_deletes_the_marked_object(kube: KubeClient) -> None:
    await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default", "finalizers": ["x/y", "x/z"]}})
    await kube.delete(CONFIG_MAP, "a", namespace="default")
    await kube.patch(CONFIG_MAP, "a", {"metadata": {"finalizers": ["x/z"]}}, namespace="default")
    assert await exists(kube, CONFIG_MAP, "a")
    await kube.patch(CONFIG_MAP, "a", {"metadata": {"finalizers": None}}, namespace="default")
    assert not await exists(kube, CONFIG_MAP, "a")


async def test_no_finalizer_can_be_added_once_deletion_started(kube: KubeClient) -> None:
    await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default", "finalizers": ["x/y"]}})
    await kube.delete(CONFIG_MAP, "a", namespace="default")
    with pytest.raises(errors.InvalidError) as caught:
        await kube.patch(CONFIG_MAP, "a", {"metadata": {"finalizers": ["x/y", "x/new"]}}, namespace="default")
    assert "no new finalizers can be added if the object is being deleted" in caught.value.message


async def test_deletion_timestamp_cannot_be_set_or_cleared_by_an_update(kube: KubeClient) -> None:
    await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default", "finalizers": ["x/y"]}})
    marked = await kube.delete(CONFIG_MAP, "a", namespace="default")
    assert marked is not None
    cleared = await kube.patch(CONFIG_MAP, "a", {"metadata": {"deletionTimestamp": None}}, namespace="default")
    assert cleared["metadata"]["deletionTimestamp"] == marked["metadata"]["deletionTimestamp"]


async def test_background_deletion_collects_dependents_after_the_owner_is_gone(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    owner = await kube.create(DEPLOYMENT, {"metadata": {"name": "web", "namespace": "default"}, "spec": {}})
    await kube.create(SERVICE, owned_by(owner, "web"))
    await kube.create(CONFIG_MAP, owned_by(owner, "web-tools"))
    await kube.create(CONFIG_MAP, {"metadata": {"name": "unrelated", "namespace": "default"}})
    await kube.delete(DEPLOYMENT, "web", namespace="default")
    assert not await exists(kube, DEPLOYMENT, "web")
    await eventually(lambda: len(api.store.all_objects()) == 1)
    assert await exists(kube, CONFIG_MAP, "unrelated")
    assert not await exists(kube, SERVICE, "web")


async def test_dependent_with_another_live_owner_only_loses_the_dangling_reference(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    first = await kube.create(CONFIG_MAP, {"metadata": {"name": "first", "namespace": "default"}})
    second = await kube.create(CONFIG_MAP, {"metadata": {"name": "second", "namespace": "default"}})
    shared = owned_by(first, "shared")
    second_reference = owned_by(second, "unused")["metadata"]["ownerReferences"][0]
    shared["metadata"]["ownerReferences"].append({**second_reference, "controller": False})
    await kube.create(SECRET, shared)
    await kube.delete(CONFIG_MAP, "first", namespace="default")
    api.collect_garbage()
    kept = await kube.get(SECRET, "shared", "default")
    assert [ref["name"] for ref in kept["metadata"]["ownerReferences"]] == ["second"]


async def test_foreground_deletion_waits_for_dependents_then_removes_the_owner(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    owner = await kube.create(DEPLOYMENT, {"metadata": {"name": "web", "namespace": "default"}, "spec": {}})
    child = owned_by(owner, "child")
    child["metadata"]["finalizers"] = ["x/hold"]
    await kube.create(CONFIG_MAP, child)
    marked = await kube.delete(DEPLOYMENT, "web", namespace="default", propagation="Foreground")
    assert marked is not None
    assert "foregroundDeletion" in marked["metadata"]["finalizers"]
    api.collect_garbage()
    assert await exists(kube, DEPLOYMENT, "web"), "the owner waits while a dependent still exists"
    child = await kube.get(CONFIG_MAP, "child", "default")
    assert child["metadata"]["deletionTimestamp"]
    await kube.patch(CONFIG_MAP, "child", {"metadata": {"finalizers": None}}, namespace="default")
    api.collect_garbage()
    assert not await exists(kube, DEPLOYMENT, "web")


async def test_orphan_deletion_keeps_dependents_without_the_owner_reference(api: FakeKubeAPI, kube: KubeClient) -> None:
    owner = await kube.create(DEPLOYMENT, {"metadata": {"name": "web", "namespace": "default"}, "spec": {}})
    await kube.create(CONFIG_MAP, owned_by(owner, "child"))
    await kube.delete(DEPLOYMENT, "web", namespace="default", propagation="Orphan")
    api.collect_garbage()
    assert not await exists(kube, DEPLOYMENT, "web")
    child = await kube.get(CONFIG_MAP, "child", "default")
    assert child["metadata"].get("ownerReferences") == []


async def test_delete_preconditions_are_checked(api: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default"}})
    body = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "not-the-uid"}}
    async with aiohttp.ClientSession() as session:
        url = api.url + "/api/v1/namespaces/default/configmaps/a"
        async with session.delete(url, json=body) as response:
            answer = await response.json()
    assert response.status == 409
    assert "Precondition failed: UID in precondition: not-the-uid" in answer["message"]
    assert await exists(kube, CONFIG_MAP, "a")


async def test_delete_answers_like_the_api_server_per_kind(api: FakeKubeAPI, kube: KubeClient) -> None:
    created = await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default"}})
    async with aiohttp.ClientSession() as session:
        async with session.delete(api.url + "/api/v1/namespaces/default/configmaps/a") as response:
            answer = await response.json()
        assert response.status == 200
        assert answer["kind"] == "Status"
        assert answer["status"] == "Success"
        assert answer["details"] == {"name": "a", "kind": "configmaps", "uid": created["metadata"]["uid"]}
        await kube.create(CONFIG_MAP, {"metadata": {"name": "b", "namespace": "default", "finalizers": ["x/y"]}})
        async with session.delete(api.url + "/api/v1/namespaces/default/configmaps/b") as response:
            marked = await response.json()
        assert response.status == 200
        assert marked["metadata"]["deletionTimestamp"]
    assert await kube.delete(CONFIG_MAP, "b", namespace="default") is not None
