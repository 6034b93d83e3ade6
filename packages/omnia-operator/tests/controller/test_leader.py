"""Lease-based leader election: one leader among candidates, takeover after expiry or release, step-down."""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from omnia_operator.controller.leader import LeaderElector
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.resources import LEASE
from omnia_operator.testing.fakekube import FakeKubeAPI
from omnia_operator.testing.timing import ManualClock, eventually


def elector(
    kube: KubeClient,
    identity: str,
    clock: ManualClock | None = None,
    *,
    lease_duration: float = 15.0,
    renew_deadline: float = 10.0,
    retry_period: float = 2.0,
) -> LeaderElector:
    return LeaderElector(
        kube,
        name="omnia-operator",
        namespace="omnia-system",
        identity=identity,
        lease_duration=lease_duration,
        renew_deadline=renew_deadline,
        retry_period=retry_period,
        clock=clock if clock is not None else time.monotonic,
    )


async def test_first_candidate_creates_the_lease_and_the_second_is_refused(
    kube: KubeClient, clock: ManualClock
) -> None:
    a, b = elector(kube, "pod-a", clock), elector(kube, "pod-b", clock)
    assert await a.try_acquire_or_renew()
    assert not await b.try_acquire_or_renew()
    lease = await kube.get(LEASE, "omnia-operator", "omnia-system")
    assert lease["spec"]["holderIdentity"] == "pod-a"
    assert lease["spec"]["leaseDurationSeconds"] == 15
    assert lease["spec"]["leaseTransitions"] == 0
    assert lease["spec"]["renewTime"].endswith("Z")
    assert await a.try_acquire_or_renew(), "the holder renews"
    assert not await b.try_acquire_or_renew()


async def test_a_standby_takes_over_only_after_the_lease_expired_on_its_own_clock(
    kube: KubeClient, clock: ManualClock
) -> None:
    a, b = elector(kube, "pod-a", clock), elector(kube, "pod-b", clock)
    assert await a.try_acquire_or_renew()
    assert not await b.try_acquire_or_renew()
    clock.advance(14.9)
    assert not await b.try_acquire_or_renew(), "not expired yet"
    clock.advance(0.2)
    assert await b.try_acquire_or_renew()
    lease = await kube.get(LEASE, "omnia-operator", "omnia-system")
    assert lease["spec"]["holderIdentity"] == "pod-b"
    assert lease["spec"]["leaseTransitions"] == 1
    assert not await a.try_acquire_or_renew(), "the old leader sees the new holder and cannot renew"
    assert a.observed_holder == "pod-b"


async def test_renewals_keep_a_live_leader_in_place(kube: KubeClient, clock: ManualClock) -> None:
    a, b = elector(kube, "pod-a", clock), elector(kube, "pod-b", clock)
    assert await a.try_acquire_or_renew()
    for _ in range(20):
        clock.advance(2.0)
        assert await a.try_acquire_or_renew()
        assert not await b.try_acquire_or_renew(), "a lease renewed within its duration never expires"


async def test_timing_must_leave_room_for_stepping_down(kube: KubeClient) -> None:
    with pytest.raises(ValueError, match="renew_deadline"):
        elector(kube, "pod-a", renew_deadline=20.0)
    with pytest.raises(ValueError, match="identity"):
        elector(kube, "")


@pytest.fixture
async def two_candidates(kube: KubeClient) -> AsyncIterator[tuple[list[LeaderElector], list[asyncio.Task[None]]]]:
    electors = [elector(kube, f"pod-{n}", lease_duration=1.0, renew_deadline=0.6, retry_period=0.05) for n in "ab"]
    tasks = [asyncio.create_task(e.run()) for e in electors]
    yield electors, tasks
    for e in electors:
        e.stop()
    async with asyncio.timeout(10):
        for task in tasks:
            if not task.done():
                await task


async def first_leader(electors: list[LeaderElector]) -> LeaderElector:
    waits = {asyncio.create_task(e.is_leader.wait()): e for e in electors}
    try:
        async with asyncio.timeout(10):
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
    return waits[next(iter(done))]


async def test_two_running_instances_never_both_lead_and_release_hands_over(
    api: FakeKubeAPI, kube: KubeClient, two_candidates: tuple[list[LeaderElector], list[asyncio.Task[None]]]
) -> None:
    electors, tasks = two_candidates
    both_led = False

    def check() -> None:
        nonlocal both_led
        both_led = both_led or all(e.is_leader.is_set() for e in electors)

    leader = await first_leader(electors)
    standby = next(e for e in electors if e is not leader)

    def several_rounds_later() -> bool:
        check()
        return len(api.requests(verb="update", resource="leases")) >= 6

    await eventually(several_rounds_later)
    assert not standby.is_leader.is_set()
    leader.stop()
    async with asyncio.timeout(10):
        await tasks[electors.index(leader)]
        await standby.is_leader.wait()
    check()
    assert not leader.is_leader.is_set()
    assert not both_led
    lease = await kube.get(LEASE, "omnia-operator", "omnia-system")
    assert lease["spec"]["holderIdentity"] == standby.identity
    assert lease["spec"]["leaseTransitions"] == 1


async def test_leader_steps_down_when_it_cannot_renew(api: FakeKubeAPI, kube: KubeClient) -> None:
    a = elector(kube, "pod-a", lease_duration=1.0, renew_deadline=0.3, retry_period=0.05)
    task = asyncio.create_task(a.run())
    async with asyncio.timeout(10):
        await a.is_leader.wait()
        api.faults.error_rate = 1.0
        await task  # run returns once leadership is lost
    api.faults.clear()
    assert not a.is_leader.is_set()
    lease = await kube.get(LEASE, "omnia-operator", "omnia-system")
    assert lease["spec"]["holderIdentity"] == "pod-a", "a leader that lost contact does not (cannot) release"


async def test_a_leader_cut_off_from_the_api_steps_down_before_a_standby_takes_over(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    """Leadership intervals, recorded on each instance's own transitions, never overlap."""
    intervals: dict[str, list[list[float]]] = {"pod-a": [], "pod-b": []}

    def recording(candidate: LeaderElector) -> LeaderElector:
        original = candidate._set_leader

        def set_leader(leading: bool) -> None:
            was = candidate.is_leader.is_set()
            original(leading)
            if leading and not was:
                intervals[candidate.identity].append([time.monotonic(), float("inf")])
            elif not leading and was:
                intervals[candidate.identity][-1][1] = time.monotonic()

        candidate._set_leader = set_leader  # type: ignore[method-assign]
        return candidate

    a = recording(elector(kube, "pod-a", lease_duration=1.0, renew_deadline=0.5, retry_period=0.05))
    a_task = asyncio.create_task(a.run())
    async with asyncio.timeout(10):
        await a.is_leader.wait()
    b = recording(elector(kube, "pod-b", lease_duration=1.0, renew_deadline=0.5, retry_period=0.05))
    b_task = asyncio.create_task(b.run())
    try:
        await eventually(lambda: b.observed_holder == "pod-a")
        api.faults.error_rate = 1.0  # nobody reaches the API: the leader cannot renew
        async with asyncio.timeout(10):
            await a_task  # the leader gave up after renew_deadline
        api.faults.clear()
        async with asyncio.timeout(10):
            await b.is_leader.wait()
    finally:
        b.stop()
        async with asyncio.timeout(10):
            await b_task
    (a_start, a_end), (b_start, _) = intervals["pod-a"][0], intervals["pod-b"][0]
    assert a_start < a_end <= b_start, f"leadership overlapped: a={intervals['pod-a']} b={intervals['pod-b']}"
