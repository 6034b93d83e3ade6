"""Informer: list then watch, cache and callbacks, reconnect after dropped watches, relist on 410, bookmarks."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from omnia_operator.controller.informer import Informer
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.resources import CONFIG_MAP
from omnia_operator.testing.fakekube import FakeKubeAPI
from omnia_operator.testing.timing import SleepGate, eventually


def cm(name: str, namespace: str = "default", **data: str) -> dict:
    return {"metadata": {"name": name, "namespace": namespace}, "data": data}


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.changed = asyncio.Event()

    def __call__(self, event_type: str, obj: dict, old: dict | None) -> None:
        self.events.append((event_type, obj["metadata"]["name"]))
        self.changed.set()

    async def wait_for(self, *expected: tuple[str, str]) -> None:
        async with asyncio.timeout(10):
            while not all(e in self.events for e in expected):
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def gate() -> SleepGate:
    return SleepGate()


@pytest.fixture
async def running(kube: KubeClient, gate: SleepGate) -> AsyncIterator[tuple[Informer, Recorder]]:
    await kube.create(CONFIG_MAP, cm("early", a="1"))
    informer = Informer(kube, CONFIG_MAP, namespace="default", sleep=gate)
    recorder = Recorder()
    informer.on_change(recorder)
    task = asyncio.create_task(informer.run())
    try:
        assert await informer.wait_synced(10)
        yield informer, recorder
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_informer_lists_then_follows_changes(
    api: FakeKubeAPI, kube: KubeClient, running: tuple[Informer, Recorder]
) -> None:
    informer, recorder = running
    assert informer.has_synced
    early = informer.get("early", "default")
    assert early is not None
    assert early["data"] == {"a": "1"}
    assert recorder.events == [("ADDED", "early")]
    await kube.create(CONFIG_MAP, cm("late"))
    await kube.patch(CONFIG_MAP, "early", {"data": {"a": "2"}}, namespace="default")
    await kube.delete(CONFIG_MAP, "late", namespace="default")
    await recorder.wait_for(("ADDED", "late"), ("MODIFIED", "early"), ("DELETED", "late"))
    early = informer.get("early", "default")
    assert early is not None
    assert early["data"] == {"a": "2"}
    assert informer.get("late", "default") is None
    assert informer.lists == 1
    assert next(r.query.get("resourceVersion") for r in api.requests(verb="watch")) != ""


async def test_callback_receives_the_previous_object_on_modify(
    kube: KubeClient, running: tuple[Informer, Recorder]
) -> None:
    informer, recorder = running
    olds: list[dict | None] = []
    informer.on_change(lambda _t, _o, old: olds.append(old))
    await kube.patch(CONFIG_MAP, "early", {"data": {"a": "2"}}, namespace="default")
    await recorder.wait_for(("MODIFIED", "early"))
    assert olds[-1] is not None
    assert olds[-1]["data"] == {"a": "1"}


async def test_informer_resumes_from_its_version_after_a_dropped_watch(
    api: FakeKubeAPI, kube: KubeClient, gate: SleepGate, running: tuple[Informer, Recorder]
) -> None:
    informer, recorder = running
    restarts = {"kind": "ConfigMap", "reason": "transient"}
    before = REGISTRY.get_sample_value("omnia_operator_watch_restarts_total", restarts) or 0.0
    await eventually(lambda: api.watch_count == 1)
    assert api.faults.drop_watches() == 1
    async with asyncio.timeout(10):
        await gate.entered.wait()  # the informer is backing off after the failure
    await kube.create(CONFIG_MAP, cm("while-away"))
    gate.open()
    await recorder.wait_for(("ADDED", "while-away"))
    assert informer.lists == 1, "a dropped watch resumes from the last resourceVersion, no relist"
    assert REGISTRY.get_sample_value("omnia_operator_watch_restarts_total", restarts) == before + 1
    assert gate.delays[0] > 0


async def test_informer_relists_after_410_and_reports_what_it_missed(
    api: FakeKubeAPI, kube: KubeClient, gate: SleepGate, running: tuple[Informer, Recorder]
) -> None:
    informer, recorder = running
    await eventually(lambda: api.watch_count == 1)
    api.faults.drop_watches()
    async with asyncio.timeout(10):
        await gate.entered.wait()
    await kube.delete(CONFIG_MAP, "early", namespace="default")
    await kube.create(CONFIG_MAP, cm("new"))
    api.compact()
    gate.open()
    await recorder.wait_for(("DELETED", "early"), ("ADDED", "new"))
    assert informer.lists == 2
    assert informer.get("early", "default") is None
    assert informer.get("new", "default") is not None


async def test_bookmarks_advance_the_resource_version(
    api: FakeKubeAPI, kube: KubeClient, running: tuple[Informer, Recorder]
) -> None:
    informer, recorder = running
    await eventually(lambda: api.watch_count == 1)
    await kube.create(CONFIG_MAP, cm("elsewhere", namespace="other"))  # not seen by a default-namespace watch
    current = str(api.store.resource_version)
    assert informer.resource_version != current
    assert api.send_bookmarks() == 1
    await eventually(lambda: informer.resource_version == current)
    assert recorder.events == [("ADDED", "early")]


async def test_informer_keeps_retrying_the_first_list_after_server_errors(api: FakeKubeAPI, kube: KubeClient) -> None:
    gate = SleepGate()
    api.faults.fail_next(1, status=500, verbs={"list"})
    api.faults.fail_next(1, status=500, verbs={"list"})
    api.faults.fail_next(1, status=500, verbs={"list"})  # more than the client's own retries
    informer = Informer(kube, CONFIG_MAP, sleep=gate)
    task = asyncio.create_task(informer.run())
    try:
        async with asyncio.timeout(10):
            await gate.entered.wait()
        assert not informer.has_synced
        gate.open()
        assert await informer.wait_synced(10)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_wait_synced_times_out_when_never_listed(kube: KubeClient) -> None:
    informer = Informer(kube, CONFIG_MAP)
    assert not await informer.wait_synced(0.01)
