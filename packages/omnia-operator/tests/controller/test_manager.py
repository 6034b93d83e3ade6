"""Manager: informers before controllers, leader-gated controllers, graceful shutdown of in-flight reconciles."""

import asyncio

import pytest

from omnia_operator.controller.controller import Controller, ObjectKey
from omnia_operator.controller.leader import LeaderElector, LeadershipLostError
from omnia_operator.controller.manager import Manager
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.resources import CONFIG_MAP
from omnia_operator.testing.fakekube import FakeKubeAPI
from omnia_operator.testing.timing import eventually


async def test_stop_lets_in_flight_reconciles_finish(kube: KubeClient) -> None:
    await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default"}})
    entered, release = asyncio.Event(), asyncio.Event()
    finished: list[ObjectKey] = []

    async def reconcile(key: ObjectKey) -> None:
        entered.set()
        await release.wait()
        finished.append(key)

    manager = Manager(kube)
    controller = manager.add_controller(Controller("slow", reconcile))
    controller.watch(manager.informer(CONFIG_MAP, "default"))
    run = asyncio.create_task(manager.run())
    async with asyncio.timeout(10):
        await entered.wait()
        assert manager.ready
        manager.stop()
        await asyncio.sleep(0)
        assert not run.done(), "the manager waits for the reconcile in flight"
        release.set()
        await run
    assert finished == [ObjectKey("default", "a")]
    assert controller.queue.is_shutdown


async def test_reconciles_cut_off_after_shutdown_timeout(kube: KubeClient) -> None:
    await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default"}})
    entered = asyncio.Event()
    cancelled = False

    async def reconcile(_key: ObjectKey) -> None:
        nonlocal cancelled
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled = True
            raise

    manager = Manager(kube, shutdown_timeout=0.05)
    manager.add_controller(Controller("stuck", reconcile)).watch(manager.informer(CONFIG_MAP, "default"))
    run = asyncio.create_task(manager.run())
    async with asyncio.timeout(10):
        await entered.wait()
        manager.stop()
        await run
    assert cancelled


async def test_only_the_leading_manager_runs_controllers(api: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default"}})
    reconciled_by: list[str] = []
    managers: list[Manager] = []
    for identity in ("pod-a", "pod-b"):
        elector = LeaderElector(
            kube, name="omnia", namespace="default", identity=identity,
            lease_duration=1.0, renew_deadline=0.6, retry_period=0.05,
        )  # fmt: skip
        manager = Manager(kube, leader_elector=elector)

        async def reconcile(_key: ObjectKey, who: str = identity) -> None:
            reconciled_by.append(who)

        manager.add_controller(Controller(f"c-{identity}", reconcile)).watch(manager.informer(CONFIG_MAP, "default"))
        managers.append(manager)
    runs = [asyncio.create_task(m.run()) for m in managers]
    async with asyncio.timeout(10):
        waits = [asyncio.create_task(m.started.wait()) for m in managers]
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        leader = managers[waits.index(next(iter(done)))]
        standby = managers[1 - managers.index(leader)]
        await eventually(lambda: bool(reconciled_by))
        assert standby.ready, "a standby keeps its caches warm"
        assert not standby.started.is_set()
        leader.stop()
        await runs[managers.index(leader)]
        await standby.started.wait()  # the standby takes over after the release
        standby.stop()
        await runs[managers.index(standby)]
    assert set(reconciled_by) == {"pod-a", "pod-b"}
    assert reconciled_by[0] != reconciled_by[-1]


async def test_losing_leadership_stops_controllers_and_raises(api: FakeKubeAPI, kube: KubeClient) -> None:
    elector = LeaderElector(
        kube, name="omnia", namespace="default", identity="pod-a",
        lease_duration=1.0, renew_deadline=0.3, retry_period=0.05,
    )  # fmt: skip
    manager = Manager(kube, leader_elector=elector)

    async def reconcile(_key: ObjectKey) -> None:
        return None

    controller = manager.add_controller(Controller("c", reconcile))
    controller.watch(manager.informer(CONFIG_MAP, "default"))
    run = asyncio.create_task(manager.run())
    async with asyncio.timeout(10):
        await manager.started.wait()
        api.faults.error_rate = 1.0
        with pytest.raises(LeadershipLostError):
            await run
    api.faults.clear()
    assert controller.queue.is_shutdown
