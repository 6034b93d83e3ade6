"""apply_child / delete_if_owned reading children from an informer cache first, and the API when it is stale.

The cache is a real informer run against the fake API and then stopped, so it holds a frozen (possibly
stale) view while the API moves on: each test sets up exactly the staleness it is about.
"""

import asyncio
from typing import Any

import pytest

from omnia_operator.controller.informer import Informer
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.reconcile.apply import ChildConflictError, apply_child, delete_if_owned
from omnia_operator.reconcile.child_cache import ChildCache
from omnia_operator.testing.fakekube import FakeKubeAPI

NS = "default"
UID = "agent-uid"


def child(data: str, *, owner: str = UID) -> dict[str, Any]:
    ref = {"apiVersion": "v1", "kind": "AgentRuntime", "name": "a", "uid": owner, "controller": True}
    meta = {"name": "a-tools", "namespace": NS, "ownerReferences": [ref]}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"tools.yaml": data}}


async def frozen_cache(kube: KubeClient) -> ChildCache:
    """A ChildCache over a ConfigMap informer that listed the API once and then stopped."""
    informer = Informer(kube, kinds.CONFIG_MAP, namespace=NS)
    task = asyncio.create_task(informer.run())
    try:
        assert await informer.wait_synced(10)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    return ChildCache({"ConfigMap": [informer]})


def requests(api: FakeKubeAPI, since: int) -> list[str]:
    return [r.verb for r in api.request_log[since:]]


async def test_a_child_in_place_in_the_cache_costs_no_api_request(api: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(kinds.CONFIG_MAP, child("v1"))
    cache = await frozen_cache(kube)
    since = len(api.request_log)
    stored = await apply_child(kube, kinds.CONFIG_MAP, child("v1"), UID, cache)
    assert stored["data"] == {"tools.yaml": "v1"}
    assert requests(api, since) == []


async def test_a_child_missing_from_a_stale_cache_is_read_from_the_api_after_already_exists(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    cache = await frozen_cache(kube)
    await kube.create(kinds.CONFIG_MAP, child("v1"))  # exists, but the cache never saw it
    since = len(api.request_log)
    stored = await apply_child(kube, kinds.CONFIG_MAP, child("v2"), UID, cache)
    assert stored["data"] == {"tools.yaml": "v2"}
    assert requests(api, since) == ["create", "get", "update"]


async def test_an_update_from_a_stale_cached_version_conflicts_then_succeeds_from_the_api(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    await kube.create(kinds.CONFIG_MAP, child("v1"))
    cache = await frozen_cache(kube)
    await kube.patch(kinds.CONFIG_MAP, "a-tools", {"metadata": {"labels": {"edited": "yes"}}}, namespace=NS)
    stored = await apply_child(kube, kinds.CONFIG_MAP, child("v2"), UID, cache)
    assert stored["data"] == {"tools.yaml": "v2"}
    assert stored["metadata"]["labels"] == {"edited": "yes"}, "the update merged into the current object"
    assert [r.status for r in api.request_log if r.verb == "update"] == [409, 200]


async def test_an_object_of_someone_else_is_still_a_conflict_when_the_cache_does_not_hold_it(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    cache = await frozen_cache(kube)
    await kube.create(kinds.CONFIG_MAP, child("theirs", owner="someone-else"))
    with pytest.raises(ChildConflictError, match="not owned by this AgentRuntime"):
        await apply_child(kube, kinds.CONFIG_MAP, child("ours"), UID, cache)
    assert (await kube.get(kinds.CONFIG_MAP, "a-tools", NS))["data"] == {"tools.yaml": "theirs"}


async def test_delete_if_owned_deletes_what_the_cache_holds_and_skips_what_it_does_not(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    await kube.create(kinds.CONFIG_MAP, child("v1"))
    cache = await frozen_cache(kube)
    assert await delete_if_owned(kube, kinds.CONFIG_MAP, "a-tools", NS, UID, cache)
    assert await delete_if_owned(kube, kinds.CONFIG_MAP, "a-tools", NS, "other-uid", cache) is False
    since = len(api.request_log)
    assert await delete_if_owned(kube, kinds.CONFIG_MAP, "never-cached", NS, UID, cache) is False
    assert requests(api, since) == []
