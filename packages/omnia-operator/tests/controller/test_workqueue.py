"""WorkQueue: de-duplication, one worker per key, coalesced re-adds, delays, backoff and shutdown."""

import asyncio
import random

import pytest

from omnia_operator.controller.backoff import Backoff, KeyedBackoff
from omnia_operator.controller.workqueue import WorkQueue
from omnia_operator.testing.timing import ManualClock


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_adding_a_waiting_key_again_does_nothing() -> None:
    queue: WorkQueue[str] = WorkQueue("t")
    for key in ("a", "b", "a", "a", "b"):
        queue.add(key)
    assert len(queue) == 2
    assert [await queue.get(), await queue.get()] == ["a", "b"]


async def test_key_in_flight_is_not_handed_to_another_worker_until_done() -> None:
    queue: WorkQueue[str] = WorkQueue("t")
    queue.add("a")
    assert await queue.get() == "a"
    queue.add("a")
    second_worker = asyncio.create_task(queue.get())
    await settle()
    assert not second_worker.done(), "a key being processed must not be given to a second worker"
    assert len(queue) == 0
    queue.done("a")
    assert await asyncio.wait_for(second_worker, 5) == "a"


async def test_re_adds_while_in_flight_are_coalesced_into_one_more_pass() -> None:
    queue: WorkQueue[str] = WorkQueue("t")
    queue.add("a")
    await queue.get()
    for _ in range(5):
        queue.add("a")
    queue.done("a")
    assert len(queue) == 1
    assert await queue.get() == "a"
    queue.done("a")
    assert len(queue) == 0


async def test_done_without_re_add_leaves_queue_empty() -> None:
    queue: WorkQueue[str] = WorkQueue("t")
    queue.add("a")
    await queue.get()
    queue.done("a")
    assert len(queue) == 0
    assert queue.processing == frozenset()


async def test_add_after_holds_the_key_until_its_time(clock: ManualClock) -> None:
    queue: WorkQueue[str] = WorkQueue("t", clock=clock)
    queue.add_after("a", 10)
    assert len(queue) == 0
    assert queue.delayed == 1
    waiting = asyncio.create_task(queue.get())
    clock.advance(9.9)
    queue.wake()
    await settle()
    assert not waiting.done()
    clock.advance(0.1)
    queue.wake()
    assert await asyncio.wait_for(waiting, 5) == "a"
    assert queue.delayed == 0


async def test_add_after_keeps_the_earliest_deadline(clock: ManualClock) -> None:
    queue: WorkQueue[str] = WorkQueue("t", clock=clock)
    queue.add_after("a", 10)
    queue.add_after("a", 3)
    queue.add_after("a", 20)
    clock.advance(3)
    assert await asyncio.wait_for(queue.get(), 5) == "a"
    queue.done("a")
    clock.advance(100)
    queue.wake()
    assert len(queue) == 0
    assert queue.delayed == 0


async def test_rate_limited_adds_back_off_exponentially_up_to_the_cap(clock: ManualClock) -> None:
    backoff = KeyedBackoff(Backoff(base=1.0, cap=8.0, jitter=0.0))
    queue: WorkQueue[str] = WorkQueue("t", clock=clock, backoff=backoff)
    for expected in [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]:
        queue.add_rate_limited("a")
        waiting = asyncio.create_task(queue.get())
        clock.advance(expected - 0.01)
        queue.wake()
        await settle()
        assert not waiting.done(), f"the key came back before its {expected}s backoff"
        clock.advance(0.01)
        queue.wake()
        assert await asyncio.wait_for(waiting, 5) == "a"
        queue.done("a")
    assert queue.num_requeues("a") == 6
    queue.forget("a")
    assert queue.num_requeues("a") == 0


def test_backoff_jitter_stays_within_half_and_full_nominal_delay() -> None:
    backoff = Backoff(base=1.0, cap=100.0, jitter=0.5, rng=random.Random(7))
    for failures, nominal in [(1, 1.0), (2, 2.0), (3, 4.0), (10, 100.0)]:
        for _ in range(50):
            assert nominal / 2 <= backoff.delay(failures) <= nominal
    assert backoff.delay(0) == 0.0


async def test_shutdown_releases_waiting_workers_and_ignores_new_keys() -> None:
    queue: WorkQueue[str] = WorkQueue("t")
    waiting = asyncio.create_task(queue.get())
    await settle()
    queue.shutdown()
    assert await asyncio.wait_for(waiting, 5) is None
    queue.add("a")
    assert len(queue) == 0
    assert await queue.get() is None


@pytest.mark.parametrize("workers", [1, 4])
async def test_many_keys_are_each_processed_once_by_concurrent_workers(workers: int) -> None:
    queue: WorkQueue[int] = WorkQueue("t")
    processed: list[int] = []

    async def worker() -> None:
        while (key := await queue.get()) is not None:
            processed.append(key)
            await asyncio.sleep(0)
            queue.done(key)
            if len(processed) == 100:
                queue.shutdown()

    for key in range(100):
        queue.add(key)
    async with asyncio.timeout(10), asyncio.TaskGroup() as group:
        for _ in range(workers):
            group.create_task(worker())
    assert sorted(processed) == list(range(100))
