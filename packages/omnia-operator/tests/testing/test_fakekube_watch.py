"""Watch semantics of the fake: resourceVersion, selectors, 410 as an ERROR event, bookmarks, timeoutSeconds, faults."""

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from omnia_operator.kube import errors
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.resources import CONFIG_MAP
from omnia_operator.testing.fakekube import FakeKubeAPI

BASE = "/api/v1/namespaces/default/configmaps"


async def watch_lines(api: FakeKubeAPI, query: str, count: int) -> list[dict[str, Any]]:
    """Read `count` events (or until the server ends the stream) from a raw watch request."""
    events: list[dict[str, Any]] = []
    async with (
        aiohttp.ClientSession() as session,
        asyncio.timeout(10),
        session.get(f"{api.url}{BASE}?watch=true&{query}") as response,
    ):
        assert response.status == 200
        async for line in response.content:
            events.append(json.loads(line))
            if len(events) == count:
                break
    return events


async def test_watch_without_version_starts_with_synthetic_added_events(api: FakeKubeAPI, kube: KubeClient) -> None:
    for name in ("a", "b"):
        await kube.create(CONFIG_MAP, {"metadata": {"name": name, "namespace": "default"}})
    events = await watch_lines(api, "timeoutSeconds=5", 2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "a"), ("ADDED", "b")]
    assert events[0]["object"]["kind"] == "ConfigMap"


async def test_watch_from_a_version_replays_only_later_events(api: FakeKubeAPI, kube: KubeClient) -> None:
    first = await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default"}})
    await kube.create(CONFIG_MAP, {"metadata": {"name": "b", "namespace": "default"}})
    rv = first["metadata"]["resourceVersion"]
    events = await watch_lines(api, f"resourceVersion={rv}&timeoutSeconds=5", 1)
    assert events[0]["object"]["metadata"]["name"] == "b"


async def test_expired_version_answers_200_then_an_error_event_with_410_status(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    first = await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default"}})
    await kube.create(CONFIG_MAP, {"metadata": {"name": "b", "namespace": "default"}})
    api.compact()
    events = await watch_lines(api, f"resourceVersion={first['metadata']['resourceVersion']}", 1)
    assert events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert status["kind"] == "Status"
    assert status["code"] == 410
    assert status["reason"] == "Expired"
    assert status["message"].startswith("too old resource version:")


async def test_history_window_expires_old_versions() -> None:
    async with FakeKubeAPI(history_limit=3) as small, KubeClient.for_url(small.url) as client:
        start = await client.list(CONFIG_MAP, "default")
        for index in range(5):
            await client.create(CONFIG_MAP, {"metadata": {"name": f"c{index}", "namespace": "default"}})
        with pytest.raises(errors.GoneError):
            async for _ in client.watch(CONFIG_MAP, namespace="default", resource_version=start.resource_version):
                pass


async def test_selector_watch_reports_objects_leaving_and_entering_the_selection(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default", "labels": {"app": "web"}}})
    listed = await kube.list(CONFIG_MAP, "default", label_selector="app=web")
    watch = kube.watch(
        CONFIG_MAP, namespace="default", resource_version=listed.resource_version, label_selector="app=web"
    )
    await kube.patch(CONFIG_MAP, "a", {"metadata": {"labels": {"app": "db"}}}, namespace="default")
    await kube.patch(CONFIG_MAP, "a", {"metadata": {"labels": {"app": "web"}}}, namespace="default")
    seen = []
    async with asyncio.timeout(10):
        async for event in watch:
            seen.append(event.type)
            if len(seen) == 2:
                break
    assert seen == ["DELETED", "ADDED"]


async def test_periodic_bookmarks_are_sent_only_when_allowed() -> None:
    async with FakeKubeAPI(bookmark_interval=0.01) as api:
        with_bookmarks = await watch_lines(api, "allowWatchBookmarks=true&resourceVersion=1&timeoutSeconds=5", 1)
        assert with_bookmarks[0]["type"] == "BOOKMARK"
        assert with_bookmarks[0]["object"]["metadata"]["resourceVersion"] == str(api.store.resource_version)
        without = await watch_lines(api, "resourceVersion=1&timeoutSeconds=0.05", 5)
        assert without == []


async def test_timeout_seconds_ends_the_watch_cleanly(api: FakeKubeAPI) -> None:
    events = await watch_lines(api, "resourceVersion=1&timeoutSeconds=0", 1)
    assert events == []
    assert api.watch_count == 0


async def test_injected_latency_delays_but_answers(api: FakeKubeAPI, kube: KubeClient) -> None:
    api.faults.latency = 0.01
    created = await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default"}})
    assert created["metadata"]["name"] == "a"


async def test_error_rate_faults_are_reproducible_with_a_seed() -> None:
    outcomes: list[list[int]] = []
    for _ in range(2):
        async with FakeKubeAPI(seed=42) as api, aiohttp.ClientSession() as session:
            api.faults.error_rate = 0.5
            statuses = []
            for _ in range(20):
                async with session.get(f"{api.url}{BASE}") as response:
                    statuses.append(response.status)
            outcomes.append(statuses)
            assert api.faults.injected == statuses.count(500)
    assert outcomes[0] == outcomes[1]
    assert 0 < outcomes[0].count(500) < 20


async def test_faults_never_hit_discovery(api: FakeKubeAPI) -> None:
    api.faults.error_rate = 1.0
    async with aiohttp.ClientSession() as session, session.get(f"{api.url}/apis") as response:
        assert response.status == 200
