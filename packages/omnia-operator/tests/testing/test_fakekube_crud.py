"""The fake API's CRUD answers against documented Kubernetes behaviour (status codes, Status objects, metadata)."""

import aiohttp
import pytest

from omnia_operator.kube import errors
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.resources import AGENT_RUNTIME, CONFIG_MAP, DEPLOYMENT, SECRET
from omnia_operator.testing.fakekube import FakeKubeAPI


def config_map(name: str = "settings", namespace: str = "default", **data: str) -> dict:
    return {"metadata": {"name": name, "namespace": namespace}, "data": data}


async def raw(api: FakeKubeAPI, method: str, path: str, **kwargs) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.request(method, api.url + path, **kwargs) as response:
        return response.status, await response.json()


async def test_create_sets_uid_resource_version_and_timestamp_when_object_is_new(kube: KubeClient) -> None:
    created = await kube.create(CONFIG_MAP, config_map(a="1"))
    meta = created["metadata"]
    assert meta["uid"]
    assert meta["creationTimestamp"].endswith("Z")
    assert int(meta["resourceVersion"]) > 0
    assert created["kind"] == "ConfigMap"
    assert created["apiVersion"] == "v1"
    fetched = await kube.get(CONFIG_MAP, "settings", "default")
    assert fetched == created


async def test_create_answers_201_and_409_already_exists_status_when_name_is_taken(api: FakeKubeAPI) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dup"}}
    status, _ = await raw(api, "POST", "/api/v1/namespaces/default/configmaps", json=body)
    assert status == 201
    status, answer = await raw(api, "POST", "/api/v1/namespaces/default/configmaps", json=body)
    assert status == 409
    assert answer["kind"] == "Status"
    assert answer["status"] == "Failure"
    assert answer["reason"] == "AlreadyExists"
    assert answer["code"] == 409
    assert answer["message"] == 'configmaps "dup" already exists'
    assert answer["details"] == {"name": "dup", "kind": "configmaps"}


async def test_get_answers_404_not_found_status_naming_group_resource_when_missing(api: FakeKubeAPI) -> None:
    status, answer = await raw(api, "GET", "/apis/apps/v1/namespaces/default/deployments/web")
    assert status == 404
    assert answer["reason"] == "NotFound"
    assert answer["message"] == 'deployments.apps "web" not found'
    assert answer["details"] == {"name": "web", "kind": "deployments", "group": "apps"}


async def test_unknown_kind_answers_404(api: FakeKubeAPI) -> None:
    status, answer = await raw(api, "GET", "/apis/example.com/v1/namespaces/default/widgets")
    assert status == 404
    assert answer["reason"] == "NotFound"


async def test_update_with_stale_resource_version_is_409_conflict(kube: KubeClient) -> None:
    first = await kube.create(CONFIG_MAP, config_map(a="1"))
    await kube.replace(CONFIG_MAP, {**first, "data": {"a": "2"}})
    with pytest.raises(errors.ConflictError) as caught:
        await kube.replace(CONFIG_MAP, {**first, "data": {"a": "3"}})
    assert "the object has been modified" in caught.value.message
    assert caught.value.status == 409
    assert caught.value.reason == "Conflict"


async def test_update_without_resource_version_is_unconditional_for_builtin_kinds(kube: KubeClient) -> None:
    await kube.create(CONFIG_MAP, config_map(a="1"))
    replaced = await kube.replace(CONFIG_MAP, config_map(a="2"))
    assert replaced["data"] == {"a": "2"}


async def test_update_of_missing_object_is_404(kube: KubeClient) -> None:
    with pytest.raises(errors.NotFoundError):
        await kube.replace(CONFIG_MAP, config_map("ghost"))


async def test_update_with_name_not_matching_url_is_400(api: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(CONFIG_MAP, config_map("one"))
    status, answer = await raw(
        api, "PUT", "/api/v1/namespaces/default/configmaps/one", json={"metadata": {"name": "two"}}
    )
    assert status == 400
    assert answer["reason"] == "BadRequest"


async def test_no_op_update_keeps_resource_version_and_emits_nothing(kube: KubeClient) -> None:
    created = await kube.create(CONFIG_MAP, config_map(a="1"))
    again = await kube.replace(CONFIG_MAP, created)
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


async def test_generation_bumps_on_spec_change_only_when_kind_has_status_subresource(kube: KubeClient) -> None:
    deployment = {
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 1},
        "status": {"replicas": 7},
    }
    created = await kube.create(DEPLOYMENT, deployment)
    assert created["metadata"]["generation"] == 1
    assert "status" not in created, "status is dropped on create for kinds with a status subresource"
    labelled = await kube.patch(DEPLOYMENT, "web", {"metadata": {"labels": {"a": "b"}}}, namespace="default")
    assert labelled["metadata"]["generation"] == 1
    with_status = await kube.patch_status(DEPLOYMENT, "web", {"replicas": 1}, namespace="default")
    assert with_status["metadata"]["generation"] == 1
    assert with_status["status"] == {"replicas": 1}
    scaled = await kube.patch(DEPLOYMENT, "web", {"spec": {"replicas": 3}}, namespace="default")
    assert scaled["metadata"]["generation"] == 2


async def test_main_resource_write_ignores_status_and_status_write_ignores_spec(kube: KubeClient) -> None:
    created = await kube.create(
        DEPLOYMENT, {"metadata": {"name": "web", "namespace": "default"}, "spec": {"replicas": 1}}
    )
    status_written = await kube.replace_status(
        DEPLOYMENT, {**created, "spec": {"replicas": 9}, "status": {"readyReplicas": 1}}
    )
    assert status_written["spec"] == {"replicas": 1}
    assert status_written["status"] == {"readyReplicas": 1}
    main_written = await kube.replace(DEPLOYMENT, {**status_written, "spec": {"replicas": 2}, "status": {}})
    assert main_written["spec"] == {"replicas": 2}
    assert main_written["status"] == {"readyReplicas": 1}


async def test_status_subresource_is_404_for_kinds_without_it(api: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(CONFIG_MAP, config_map())
    status, _ = await raw(api, "GET", "/api/v1/namespaces/default/configmaps/settings/status")
    assert status == 404


async def test_secret_string_data_is_stored_base64_in_data(kube: KubeClient) -> None:
    created = await kube.create(
        SECRET, {"metadata": {"name": "key", "namespace": "default"}, "stringData": {"apiKey": "sk-1"}}
    )
    assert created["data"] == {"apiKey": "c2stMQ=="}
    assert "stringData" not in created


async def test_invalid_name_is_422_naming_metadata_name(kube: KubeClient) -> None:
    with pytest.raises(errors.InvalidError) as caught:
        await kube.create(CONFIG_MAP, config_map("Not_Valid"))
    assert "metadata.name" in caught.value.message


async def test_list_filters_by_label_selector_and_namespace(kube: KubeClient) -> None:
    for name, namespace, labels in [
        ("a", "one", {"app": "web", "tier": "front"}),
        ("b", "one", {"app": "web"}),
        ("c", "one", {"app": "db"}),
        ("d", "two", {"app": "web", "tier": "back"}),
    ]:
        await kube.create(CONFIG_MAP, {"metadata": {"name": name, "namespace": namespace, "labels": labels}})

    async def names(selector: str | None, namespace: str | None = None) -> list[str]:
        listed = await kube.list(CONFIG_MAP, namespace, label_selector=selector)
        return sorted(item["metadata"]["name"] for item in listed.items)

    assert await names("app=web") == ["a", "b", "d"]
    assert await names("app=web", "one") == ["a", "b"]
    assert await names("app!=web") == ["c"]
    assert await names("tier") == ["a", "d"]
    assert await names("!tier") == ["b", "c"]
    assert await names("tier in (front, middle)") == ["a"]
    assert await names("app=web,tier notin (front)") == ["b", "d"]
    assert await names(None) == ["a", "b", "c", "d"]


async def test_malformed_label_selector_is_400(kube: KubeClient) -> None:
    with pytest.raises(errors.BadRequestError):
        await kube.list(CONFIG_MAP, "default", label_selector="a in b")


async def test_list_carries_collection_resource_version_and_builtin_items_lack_kind(api: FakeKubeAPI) -> None:
    await raw(api, "POST", "/api/v1/namespaces/default/configmaps", json={"metadata": {"name": "x"}})
    status, answer = await raw(api, "GET", "/api/v1/namespaces/default/configmaps")
    assert status == 200
    assert answer["kind"] == "ConfigMapList"
    assert int(answer["metadata"]["resourceVersion"]) >= int(answer["items"][0]["metadata"]["resourceVersion"])
    assert "kind" not in answer["items"][0]


async def test_delete_removes_object_and_second_delete_is_404(kube: KubeClient) -> None:
    await kube.create(CONFIG_MAP, config_map())
    await kube.delete(CONFIG_MAP, "settings", namespace="default")
    with pytest.raises(errors.NotFoundError):
        await kube.get(CONFIG_MAP, "settings", "default")
    with pytest.raises(errors.NotFoundError):
        await kube.delete(CONFIG_MAP, "settings", namespace="default")


async def test_request_log_and_write_count_record_every_request(api: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(CONFIG_MAP, config_map())
    await kube.get(CONFIG_MAP, "settings", "default")
    await kube.list(CONFIG_MAP, "default")
    with pytest.raises(errors.AlreadyExistsError):
        await kube.create(CONFIG_MAP, config_map())
    assert [r.verb for r in api.request_log] == ["create", "get", "list", "create"]
    assert api.write_count == 2
    assert api.request_log[1].name == "settings"
    assert api.request_log[1].namespace == "default"
    assert api.request_log[3].status == 409


async def test_direct_inspection_reads_without_requests(api: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(CONFIG_MAP, config_map("seen", a="1"))
    logged = len(api.request_log)
    stored = api.object(CONFIG_MAP, "seen", "default")
    assert stored is not None
    assert stored["data"] == {"a": "1"}
    assert api.object(CONFIG_MAP, "absent", "default") is None
    assert [o["metadata"]["name"] for o in api.objects(CONFIG_MAP)] == ["seen"]
    assert len(api.request_log) == logged
    with pytest.raises(LookupError, match="register its CRD"):
        api.objects(AGENT_RUNTIME)


async def test_create_with_a_resource_version_is_refused_like_the_real_storage_layer(api: FakeKubeAPI) -> None:
    body = {"metadata": {"name": "copied", "resourceVersion": "42"}}
    status, answer = await raw(api, "POST", "/api/v1/namespaces/default/configmaps", json=body)
    assert status == 500
    assert answer["message"] == "resourceVersion should not be set on objects to be created"
