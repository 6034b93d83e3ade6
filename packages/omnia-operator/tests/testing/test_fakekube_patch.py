"""Merge patch (RFC 7386), JSON patch (RFC 6902) and patch content types as the API server treats them."""

import aiohttp
import pytest

from omnia_operator.kube import errors
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.resources import CONFIG_MAP, ResourceKind
from omnia_operator.testing.fakekube import FakeKubeAPI

WIDGET = ResourceKind("example.com", "v1", "Widget", "widgets")


async def send_patch(api: FakeKubeAPI, path: str, content_type: str, body: bytes) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as session,
        session.patch(api.url + path, data=body, headers={"Content-Type": content_type}) as response,
    ):
        return response.status, await response.json()


async def test_merge_patch_sets_keys_and_null_deletes_them(kube: KubeClient) -> None:
    await kube.create(CONFIG_MAP, {"metadata": {"name": "c", "namespace": "default"}, "data": {"a": "1", "b": "2"}})
    patched = await kube.patch(CONFIG_MAP, "c", {"data": {"a": None, "c": "3"}}, namespace="default")
    assert patched["data"] == {"b": "2", "c": "3"}


async def test_json_patch_applies_operations_in_order(kube: KubeClient) -> None:
    await kube.create(CONFIG_MAP, {"metadata": {"name": "c", "namespace": "default"}, "data": {"a": "1"}})
    operations = [
        {"op": "add", "path": "/data/b", "value": "2"},
        {"op": "replace", "path": "/data/a", "value": "one"},
        {"op": "copy", "from": "/data/b", "path": "/data/c"},
        {"op": "move", "from": "/data/c", "path": "/data/d"},
        {"op": "remove", "path": "/data/b"},
        {"op": "add", "path": "/metadata/labels", "value": {"x~y/z": "1"}},
        {"op": "test", "path": "/metadata/labels/x~0y~1z", "value": "1"},
    ]
    patched = await kube.patch(CONFIG_MAP, "c", operations, namespace="default", patch_type="json")
    assert patched["data"] == {"a": "one", "d": "2"}


async def test_json_patch_that_does_not_apply_is_422_and_changes_nothing(kube: KubeClient) -> None:
    created = await kube.create(CONFIG_MAP, {"metadata": {"name": "c", "namespace": "default"}, "data": {"a": "1"}})
    for operations in (
        [{"op": "test", "path": "/data/a", "value": "2"}],
        [{"op": "replace", "path": "/data/missing", "value": "2"}],
        [{"op": "remove", "path": "/nothing/here"}],
    ):
        with pytest.raises(errors.InvalidError):
            await kube.patch(CONFIG_MAP, "c", operations, namespace="default", patch_type="json")
    assert await kube.get(CONFIG_MAP, "c", "default") == created


async def test_malformed_json_patch_document_is_400(api: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(CONFIG_MAP, {"metadata": {"name": "c", "namespace": "default"}})
    path = "/api/v1/namespaces/default/configmaps/c"
    status, answer = await send_patch(api, path, "application/json-patch+json", b'{"op": "add"}')
    assert status == 400
    assert answer["reason"] == "BadRequest"
    status, answer = await send_patch(api, path, "application/merge-patch+json", b"{not json")
    assert status == 400
    assert answer["reason"] == "BadRequest"


async def test_patch_with_unsupported_content_type_is_415_unsupported_media_type(
    api: FakeKubeAPI, widget_crd: dict
) -> None:
    """The real API server answers 415 for a patch content type it does not accept; the client maps it to 400-class."""
    api.register_crds([widget_crd])
    async with aiohttp.ClientSession() as session:
        await session.post(api.url + "/api/v1/namespaces/default/configmaps", json={"metadata": {"name": "c"}})
        await session.post(
            api.url + "/apis/example.com/v1/namespaces/default/widgets", json={"metadata": {"name": "w"}}
        )
    status, answer = await send_patch(api, "/api/v1/namespaces/default/configmaps/c", "application/json", b"{}")
    assert status == 415
    assert answer["reason"] == "UnsupportedMediaType"
    assert "application/merge-patch+json" in answer["message"]
    # strategic merge patch exists for built-in kinds only
    path = "/apis/example.com/v1/namespaces/default/widgets/w"
    status, answer = await send_patch(api, path, "application/strategic-merge-patch+json", b"{}")
    assert status == 415
    status, _ = await send_patch(
        api, "/api/v1/namespaces/default/configmaps/c", "application/strategic-merge-patch+json", b"{}"
    )
    assert status == 200


async def test_patch_carrying_stale_resource_version_is_409(kube: KubeClient) -> None:
    created = await kube.create(CONFIG_MAP, {"metadata": {"name": "c", "namespace": "default"}})
    stale = created["metadata"]["resourceVersion"]
    await kube.patch(CONFIG_MAP, "c", {"data": {"a": "1"}}, namespace="default")
    with pytest.raises(errors.ConflictError):
        await kube.patch(
            CONFIG_MAP, "c", {"metadata": {"resourceVersion": stale}, "data": {"a": "2"}}, namespace="default"
        )


async def test_patch_of_missing_object_is_404(kube: KubeClient) -> None:
    with pytest.raises(errors.NotFoundError):
        await kube.patch(CONFIG_MAP, "nope", {"data": {}}, namespace="default")


async def test_status_patch_on_custom_resource_leaves_spec_and_generation(
    api: FakeKubeAPI, kube: KubeClient, widget_crd: dict
) -> None:
    api.register_crds([widget_crd])
    created = await kube.create(WIDGET, {"metadata": {"name": "w", "namespace": "default"}, "spec": {"size": 1}})
    patched = await kube.patch_status(WIDGET, "w", {"phase": "Ready"}, namespace="default")
    assert patched["status"] == {"phase": "Ready"}
    assert patched["spec"] == {"size": 1}
    assert patched["metadata"]["generation"] == created["metadata"]["generation"] == 1
    spec_patched = await kube.patch(
        WIDGET, "w", {"spec": {"size": 2}, "status": {"phase": "Lost"}}, namespace="default"
    )
    assert spec_patched["status"] == {"phase": "Ready"}
    assert spec_patched["metadata"]["generation"] == 2
