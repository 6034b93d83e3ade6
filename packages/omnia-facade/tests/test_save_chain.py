"""The save chain: ordered, bounded, owned store writes of one connection."""

import asyncio
import logging

import pytest

from omnia_facade.save_chain import SaveChain

WAIT = 5.0


class Gate:
    """A write that records its name when it starts and finishes only when the test opens it."""

    def __init__(self, log: list[str], name: str, *, fail: bool = False) -> None:
        self.opened = asyncio.Event()
        self.started = asyncio.Event()
        self._log = log
        self._name = name
        self._fail = fail

    async def __call__(self) -> None:
        self.started.set()
        await self.opened.wait()
        if self._fail:
            raise RuntimeError("boom")
        self._log.append(self._name)


async def test_writes_land_in_submission_order_even_when_a_later_one_is_ready_first() -> None:
    log: list[str] = []
    chain = SaveChain(limit=8)
    first, second = Gate(log, "first"), Gate(log, "second")
    async with asyncio.TaskGroup() as group:
        chain.submit(group, first, what="first")
        chain.submit(group, second, what="second")
        second.opened.set()
        async with asyncio.timeout(WAIT):
            await first.started.wait()
        assert not second.started.is_set()  # it waits for the write before it
        first.opened.set()
    assert log == ["first", "second"]


async def test_a_failed_or_cancelled_write_does_not_stop_the_next_one(caplog: pytest.LogCaptureFixture) -> None:
    log: list[str] = []
    chain = SaveChain(limit=8)
    failing, cancelled, last = Gate(log, "failing", fail=True), Gate(log, "cancelled"), Gate(log, "last")
    with caplog.at_level(logging.ERROR, logger="omnia_facade.save_chain"):
        async with asyncio.TaskGroup() as group:
            chain.submit(group, failing, what="the failing write")
            doomed = chain.submit(group, cancelled, what="the cancelled write")
            chain.submit(group, last, what="the last write")
            last.opened.set()
            doomed.cancel()
            failing.opened.set()
    assert log == ["last"]
    assert "unexpected failure while saving the failing write" in caplog.text


async def test_pending_writes_are_counted_from_submission_to_end() -> None:
    counts = {"started": 0, "finished": 0}
    chain = SaveChain(
        limit=8,
        on_start=lambda: counts.__setitem__("started", counts["started"] + 1),
        on_finish=lambda: counts.__setitem__("finished", counts["finished"] + 1),
    )
    gate = Gate([], "only")
    async with asyncio.TaskGroup() as group:
        never_started = chain.submit(group, Gate([], "never"), what="never")
        never_started.cancel()  # cancelled before its first step: still counted as ended
        chain.submit(group, gate, what="only")
        assert chain.pending == 2
        gate.opened.set()
    assert chain.pending == 0
    assert counts == {"started": 2, "finished": 2}


async def test_wait_for_room_holds_the_caller_until_a_write_ends() -> None:
    log: list[str] = []
    chain = SaveChain(limit=2)
    first, second = Gate(log, "first"), Gate(log, "second")
    async with asyncio.TaskGroup() as group:
        chain.submit(group, first, what="first")
        chain.submit(group, second, what="second")
        waiter = group.create_task(chain.wait_for_room())
        async with asyncio.timeout(WAIT):
            await first.started.wait()
        assert not waiter.done()
        first.opened.set()
        async with asyncio.timeout(WAIT):
            await waiter
        assert chain.pending == 1
        second.opened.set()


async def test_drain_cancels_writes_still_pending_after_the_grace_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    chain = SaveChain(limit=4)
    stuck = Gate([], "stuck")
    with caplog.at_level(logging.WARNING, logger="omnia_facade.save_chain"):
        async with asyncio.TaskGroup() as group:
            task = chain.submit(group, stuck, what="stuck")
            await chain.drain(0.05)
    assert task.cancelled()
    assert chain.pending == 0
    assert "1 session store writes still pending" in caplog.text


async def test_a_write_submitted_after_the_owning_group_finished_is_refused_and_not_counted() -> None:
    counts: list[str] = []
    chain = SaveChain(limit=4, on_start=lambda: counts.append("start"))
    async with asyncio.TaskGroup() as group:
        pass
    with pytest.raises(RuntimeError):
        chain.submit(group, Gate([], "late"), what="late")
    assert chain.pending == 0
    assert counts == []


def test_a_chain_needs_room_for_at_least_one_write() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SaveChain(limit=0)
