"""Time helpers for deterministic tests: a clock the test moves, a sleep the test releases, bounded waits."""

import asyncio
from collections.abc import Callable


class ManualClock:
    """Monotonic time (seconds) that moves only when the test calls `advance`; pass it as `clock=`."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class SleepGate:
    """A replacement for `asyncio.sleep` that records the delays asked for and blocks until `open()`.

    `entered` is set while a caller is blocked in it, so a test knows the code under test is backing off.
    """

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.entered = asyncio.Event()
        self._open = asyncio.Event()

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self.entered.set()
        await self._open.wait()
        self._open.clear()
        self.entered.clear()

    def open(self) -> None:
        self._open.set()


async def eventually(predicate: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait until `predicate()` holds, re-checking as the event loop runs; TimeoutError after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 (polls a condition that no event reports)
            await asyncio.sleep(0.005)
