"""Controller: workers, one reconcile per key at a time, backoff on errors, requeue_after, convergence under faults."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable

import pytest
from prometheus_client import REGISTRY

from omnia_operator.controller.backoff import Backoff
from omnia_operator.controller.controller import Controller, ObjectKey, ReconcileResult
from omnia_operator.controller.informer import Informer
from omnia_operator.kube import errors
from omnia_operator.kube.client import KubeClient, RetryPolicy
from omnia_operator.kube.resources import CONFIG_MAP
from omnia_operator.testing.fakekube import FakeKubeAPI
from omnia_operator.testing.timing import eventually

StartController = Callable[[Controller], None]


@pytest.fixture
async def start_controller() -> AsyncIterator[StartController]:
    """Runs controllers for the test; stops them and waits for their workers afterwards."""
    running: list[tuple[Controller, asyncio.Task[None]]] = []

    def start(controller: Controller) -> None:
        running.append((controller, asyncio.create_task(controller.run())))

    yield start
    for controller, _ in running:
        controller.stop()
    async with asyncio.timeout(10):
        for _, task in running:
            await task


async def test_a_key_is_never_reconciled_by_two_workers_at_once(start_controller: StartController) -> None:
    active: Counter[ObjectKey] = Counter()
    calls: Counter[ObjectKey] = Counter()
    overlap = False
    release = asyncio.Event()
    entered = asyncio.Event()

    async def reconcile(key: ObjectKey) -> None:
        nonlocal overlap
        active[key] += 1
        calls[key] += 1
        overlap = overlap or active[key] > 1
        entered.set()
        await release.wait()
        active[key] -= 1

    controller = Controller("exclusive", reconcile, workers=4)
    start_controller(controller)
    key = ObjectKey("default", "a")
    controller.queue.add(key)
    async with asyncio.timeout(10):
        await entered.wait()
    for _ in range(10):
        controller.queue.add(key)  # changes arriving while the key is being reconciled
    await asyncio.sleep(0)
    assert calls[key] == 1
    release.set()
    await eventually(lambda: calls[key] == 2 and controller.in_flight == 0)
    assert not overlap
    assert calls[key] == 2, "re-adds during a reconcile coalesce into exactly one more"


async def test_failing_reconcile_is_retried_with_backoff_then_forgotten(start_controller: StartController) -> None:
    attempts: list[ObjectKey] = []

    async def reconcile(key: ObjectKey) -> None:
        attempts.append(key)
        if len(attempts) < 3:
            raise RuntimeError("not yet")

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, {"controller": "flaky", **labels}) or 0.0

    errors_before = sample("controller_runtime_reconcile_errors_total")
    successes_before = sample("controller_runtime_reconcile_total", result="success")
    controller = Controller("flaky", reconcile, backoff=Backoff(base=0.001, cap=0.01))
    start_controller(controller)
    key = ObjectKey("default", "a")
    controller.queue.add(key)
    await eventually(lambda: len(attempts) == 3 and controller.in_flight == 0)
    assert controller.queue.num_requeues(key) == 0, "success resets the key's backoff"
    assert sample("controller_runtime_reconcile_errors_total") - errors_before == 2
    assert sample("controller_runtime_reconcile_total", result="success") - successes_before == 1


async def test_requeue_after_reconciles_the_key_again(start_controller: StartController) -> None:
    calls = 0

    async def reconcile(_key: ObjectKey) -> ReconcileResult:
        nonlocal calls
        calls += 1
        return ReconcileResult(requeue_after=0.01 if calls < 3 else None)

    controller = Controller("periodic", reconcile)
    start_controller(controller)
    controller.queue.add(ObjectKey("", "cluster-thing"))
    await eventually(lambda: calls == 3)
    assert controller.queue.delayed == 0


def test_controller_needs_a_worker() -> None:
    async def reconcile(_key: ObjectKey) -> None:
        return None

    with pytest.raises(ValueError, match="at least one worker"):
        Controller("none", reconcile, workers=0)


async def test_toy_controller_converges_under_server_errors(
    api: FakeKubeAPI, start_controller: StartController
) -> None:
    """Copies every `source-*` ConfigMap to `copy-*` while a third of all API requests fail with 500."""
    async with KubeClient.for_url(api.url, retry=RetryPolicy(attempts=2, base=0.001, cap=0.005), seed=3) as kube:
        sources = Informer(kube, CONFIG_MAP, namespace="default", label_selector="role=source")
        copies = Informer(kube, CONFIG_MAP, namespace="default", label_selector="role=copy")

        async def reconcile(key: ObjectKey) -> None:
            source = sources.get(key.name, key.namespace)
            if source is None:
                return
            wanted = {
                "metadata": {"name": f"copy-{key.name}", "namespace": key.namespace, "labels": {"role": "copy"}},
                "data": source.get("data") or {},
            }
            try:
                current = await kube.get(CONFIG_MAP, f"copy-{key.name}", key.namespace)
            except errors.NotFoundError:
                await kube.create(CONFIG_MAP, wanted)
                return
            if current.get("data") != wanted["data"]:
                await kube.replace(CONFIG_MAP, {**wanted, "metadata": {**wanted["metadata"], **current["metadata"]}})

        controller = Controller("copier", reconcile, workers=3, backoff=Backoff(base=0.001, cap=0.02))
        controller.watch(sources)
        informer_tasks = [asyncio.create_task(i.run()) for i in (sources, copies)]
        try:
            assert await sources.wait_synced(10)
            assert await copies.wait_synced(10)
            for index in range(6):
                body = {"metadata": {"name": f"s{index}", "namespace": "default", "labels": {"role": "source"}}}
                await kube.create(CONFIG_MAP, {**body, "data": {"n": str(index)}})
            api.faults.error_rate = 0.33
            start_controller(controller)

            def converged() -> bool:
                return all(
                    (copy := copies.get(f"copy-s{i}", "default")) is not None and copy.get("data") == {"n": str(i)}
                    for i in range(6)
                )

            await eventually(converged, timeout=30)
            assert api.faults.injected > 0, "the test must actually have faced errors"
        finally:
            api.faults.clear()
            for task in informer_tasks:
                task.cancel()
            for task in informer_tasks:
                with pytest.raises(asyncio.CancelledError):
                    await task
