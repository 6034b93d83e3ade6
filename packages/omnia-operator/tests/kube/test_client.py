"""KubeClient: error mapping in one place, bounded retries honouring Retry-After, and watches."""

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from omnia_operator.kube import errors
from omnia_operator.kube.client import KubeClient, RetryPolicy, error_from_response
from omnia_operator.kube.resources import CONFIG_MAP, WatchEvent
from omnia_operator.testing.fakekube import FakeKubeAPI


class RecordedSleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


@pytest.fixture
async def retrying(api: FakeKubeAPI) -> AsyncIterator[tuple[KubeClient, RecordedSleeps]]:
    sleeps = RecordedSleeps()
    policy = RetryPolicy(attempts=4, base=0.1, cap=1.0, max_retry_after=10.0)
    async with KubeClient.for_url(api.url, retry=policy, sleep=sleeps, seed=1) as client:
        yield client, sleeps


def status_body(code: int, reason: str, message: str) -> str:
    return json.dumps({"kind": "Status", "status": "Failure", "code": code, "reason": reason, "message": message})


@pytest.mark.parametrize(
    ("code", "reason", "expected"),
    [
        (404, "NotFound", errors.NotFoundError),
        (409, "AlreadyExists", errors.AlreadyExistsError),
        (409, "Conflict", errors.ConflictError),
        (410, "Expired", errors.GoneError),
        (422, "Invalid", errors.InvalidError),
        (400, "BadRequest", errors.BadRequestError),
        (415, "UnsupportedMediaType", errors.BadRequestError),
        (403, "Forbidden", errors.ForbiddenError),
        (429, "TooManyRequests", errors.TransientKubeError),
        (500, "InternalError", errors.TransientKubeError),
        (503, "ServiceUnavailable", errors.TransientKubeError),
    ],
)
def test_error_from_response_maps_status_codes_to_error_types(code: int, reason: str, expected: type) -> None:
    error = error_from_response(code, status_body(code, reason, "the API's words"))
    assert type(error) is expected
    assert error.message == "the API's words"
    assert error.status == code


def test_error_from_response_reads_retry_after_and_survives_non_json_bodies() -> None:
    error = error_from_response(429, "<html>busy</html>", {"Retry-After": "7"})
    assert isinstance(error, errors.TransientKubeError)
    assert error.retry_after == 7.0
    assert "busy" in error.message
    dated = error_from_response(503, None, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert isinstance(dated, errors.TransientKubeError)
    assert dated.retry_after is None


async def test_api_answers_become_typed_errors(api: FakeKubeAPI, kube: KubeClient) -> None:
    with pytest.raises(errors.NotFoundError) as caught:
        await kube.get(CONFIG_MAP, "missing", "default")
    assert caught.value.message == 'configmaps "missing" not found'
    await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default"}})
    with pytest.raises(errors.AlreadyExistsError):
        await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default"}})


async def test_transient_errors_are_retried_until_success(
    api: FakeKubeAPI, retrying: tuple[KubeClient, RecordedSleeps]
) -> None:
    client, sleeps = retrying
    await client.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default"}})
    api.faults.fail_next(2, status=503)
    fetched = await client.get(CONFIG_MAP, "a", "default")
    assert fetched["metadata"]["name"] == "a"
    assert len(sleeps.delays) == 2
    assert len(api.requests(verb="get")) == 3


async def test_retry_waits_at_least_what_retry_after_asks(
    api: FakeKubeAPI, retrying: tuple[KubeClient, RecordedSleeps]
) -> None:
    client, sleeps = retrying
    api.faults.fail_next(1, status=429, retry_after=3)
    await client.list(CONFIG_MAP, "default")
    assert sleeps.delays[0] >= 3.0


async def test_retry_after_is_capped_by_policy(api: FakeKubeAPI, retrying: tuple[KubeClient, RecordedSleeps]) -> None:
    client, sleeps = retrying
    api.faults.fail_next(1, status=429, retry_after=3600)
    await client.list(CONFIG_MAP, "default")
    assert sleeps.delays == [10.0]


async def test_retries_are_bounded_and_the_last_transient_error_surfaces(
    api: FakeKubeAPI, retrying: tuple[KubeClient, RecordedSleeps]
) -> None:
    client, sleeps = retrying
    api.faults.fail_next(10, status=500)
    with pytest.raises(errors.TransientKubeError) as caught:
        await client.list(CONFIG_MAP, "default")
    assert caught.value.status == 500
    assert len(api.requests(verb="list")) == 4
    assert len(sleeps.delays) == 3
    assert all(0 < d <= 1.5 for d in sleeps.delays)


async def test_permanent_errors_are_not_retried(api: FakeKubeAPI, retrying: tuple[KubeClient, RecordedSleeps]) -> None:
    client, sleeps = retrying
    with pytest.raises(errors.NotFoundError):
        await client.get(CONFIG_MAP, "missing", "default")
    assert sleeps.delays == []
    assert len(api.request_log) == 1


async def test_unreachable_server_is_a_transient_error_after_bounded_retries() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        sleeps = RecordedSleeps()
        async with KubeClient.for_url(
            f"http://127.0.0.1:{port}", retry=RetryPolicy(attempts=3), sleep=sleeps
        ) as client:
            with pytest.raises(errors.TransientKubeError) as caught:
                await client.get(CONFIG_MAP, "a", "default")
    assert caught.value.status == 0
    assert len(sleeps.delays) == 2


async def test_object_without_namespace_for_namespaced_kind_is_rejected_before_sending(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    with pytest.raises(ValueError, match=r"metadata\.namespace"):
        await kube.create(CONFIG_MAP, {"metadata": {"name": "a"}})
    assert api.request_log == []


async def test_bad_patch_type_is_rejected(kube: KubeClient) -> None:
    with pytest.raises(ValueError, match="patch_type"):
        await kube.patch(CONFIG_MAP, "a", {}, namespace="default", patch_type="strategic")  # type: ignore[arg-type]


async def collect(events: AsyncIterator[WatchEvent], count: int) -> list[WatchEvent]:
    seen: list[WatchEvent] = []
    async with asyncio.timeout(10):
        async for event in events:
            seen.append(event)
            if len(seen) == count:
                break
    return seen


async def test_watch_streams_changes_after_the_listed_resource_version(kube: KubeClient) -> None:
    await kube.create(CONFIG_MAP, {"metadata": {"name": "before", "namespace": "default"}})
    listed = await kube.list(CONFIG_MAP, "default")
    assert listed.items[0]["kind"] == "ConfigMap"
    await kube.create(CONFIG_MAP, {"metadata": {"name": "after", "namespace": "default"}})
    await kube.patch(CONFIG_MAP, "after", {"data": {"a": "1"}}, namespace="default")
    await kube.delete(CONFIG_MAP, "after", namespace="default")
    events = await collect(kube.watch(CONFIG_MAP, namespace="default", resource_version=listed.resource_version), 3)
    assert [(e.type, e.object["metadata"]["name"]) for e in events] == [
        ("ADDED", "after"),
        ("MODIFIED", "after"),
        ("DELETED", "after"),
    ]
    assert events[1].object["data"] == {"a": "1"}
    assert int(events[2].resource_version) > int(events[1].resource_version)


async def test_watch_raises_gone_when_the_version_was_compacted(api: FakeKubeAPI, kube: KubeClient) -> None:
    listed = await kube.list(CONFIG_MAP, "default")
    await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default"}})
    api.compact()
    with pytest.raises(errors.GoneError):
        await collect(kube.watch(CONFIG_MAP, namespace="default", resource_version=listed.resource_version), 1)


async def test_watch_reports_a_dropped_connection_as_transient(api: FakeKubeAPI, kube: KubeClient) -> None:
    listed = await kube.list(CONFIG_MAP, "default")
    watch = kube.watch(CONFIG_MAP, namespace="default", resource_version=listed.resource_version)
    await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default"}})
    first = await collect(watch, 1)
    assert first[0].type == "ADDED"
    assert api.faults.drop_watches() == 1
    with pytest.raises(errors.TransientKubeError):
        await collect(watch, 1)


async def test_watch_delivers_bookmarks_with_the_current_version(api: FakeKubeAPI, kube: KubeClient) -> None:
    listed = await kube.list(CONFIG_MAP, "default")
    watch = kube.watch(CONFIG_MAP, namespace="default", resource_version=listed.resource_version)
    await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default"}})
    added = await collect(watch, 1)
    assert api.send_bookmarks() == 1
    bookmark = await collect(watch, 1)
    assert bookmark[0].type == "BOOKMARK"
    assert bookmark[0].resource_version == added[0].resource_version
    await watch.aclose()


async def test_watch_ends_when_server_side_timeout_expires(kube: KubeClient) -> None:
    listed = await kube.list(CONFIG_MAP, "default")
    events = [e async for e in kube.watch(CONFIG_MAP, resource_version=listed.resource_version, timeout_seconds=0)]
    assert events == []


async def test_from_kubeconfig_talks_to_the_cluster_it_names(api: FakeKubeAPI, tmp_path: Path) -> None:
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": api.url}}],
        "users": [{"name": "tester", "user": {"token": "not-a-real-token"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "tester", "namespace": "default"}}],
        "current-context": "fake",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig))
    async with await KubeClient.from_kubeconfig(str(path)) as client:
        created = await client.create(CONFIG_MAP, {"metadata": {"name": "via-kubeconfig", "namespace": "default"}})
    assert created["metadata"]["uid"]
    assert api.request_log[-1].verb == "create"


async def test_from_kubeconfig_with_a_missing_file_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(errors.KubeError, match="KUBECONFIG"):
        await KubeClient.from_kubeconfig(str(tmp_path / "absent"))


def test_client_outside_an_event_loop_is_refused_with_a_clear_message() -> None:
    with pytest.raises(RuntimeError, match="inside a running event loop"):
        KubeClient.for_url("http://127.0.0.1:1")


async def test_injected_conflict_surfaces_as_conflict_error_without_retry(
    api: FakeKubeAPI, retrying: tuple[KubeClient, RecordedSleeps]
) -> None:
    client, sleeps = retrying
    created = await client.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default"}})
    api.faults.fail_next(1, status=409, verbs={"update"})
    with pytest.raises(errors.ConflictError):
        await client.replace(CONFIG_MAP, created)
    assert sleeps.delays == []
    await client.replace(CONFIG_MAP, created)
