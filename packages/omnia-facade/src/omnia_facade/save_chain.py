"""A connection's session-store writes, run one after another beside its turns ("the save chain").

A turn is over for the client when ``done`` (or its ``error``) is sent, and the client may send its next message
at once. The store writes of that turn (the user's message of a known session, the assistant's reply) must not
hold the turn slot until the store answers, or a correct client gets ``RATE_LIMITED``. So they run here instead,
and the connection releases the slot as soon as the final frame is out.

Design:

- **In order.** Writes land in the order they were submitted (user1, assistant1, user2, assistant2): each write
  waits for the one before it. A predecessor that failed or was cancelled never stops the next write.
- **Owned.** Each write is a task in the connection's ``TaskGroup``; it exists only while the write is pending, so
  an idle connection holds no task. The connection drains the chain (bounded) when it closes.
- **Bounded.** At most ``limit`` writes may be pending: ``wait_for_room`` holds the next turn back (the store
  paces the connection) instead of letting writes pile up behind a slow store.
- **Never fatal.** The write callables handle their own store errors (log, count); anything else that escapes one
  is logged here, so a failed write can never tear down the connection's ``TaskGroup``.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

Write = Callable[[], Awaitable[None]]


class SaveChain:
    """Ordered, bounded, owned store writes of one connection.

    ``on_start``/``on_finish`` are called once per write when it is submitted and when it has ended (whatever the
    outcome): the facade counts pending writes there, so drain can wait for them.
    """

    def __init__(
        self,
        *,
        limit: int,
        on_start: Callable[[], None] = lambda: None,
        on_finish: Callable[[], None] = lambda: None,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._limit = limit
        self._on_start = on_start
        self._on_finish = on_finish
        self._pending: list[asyncio.Task[None]] = []

    @property
    def pending(self) -> int:
        """Writes submitted and not yet ended."""
        self._forget_finished()
        return len(self._pending)

    def submit(self, group: asyncio.TaskGroup, write: Write, *, what: str) -> asyncio.Task[None]:
        """Run ``write`` after every write submitted before it; ``what`` names it in logs."""
        self._forget_finished()
        previous = self._pending[-1] if self._pending else None
        run = self._run(previous, write, what)
        try:
            task = group.create_task(run)
        except RuntimeError:  # the group has finished: the write is refused, not left behind
            run.close()
            raise
        self._on_start()
        # A done callback, not a ``finally``: a task cancelled before its first step never runs its body.
        task.add_done_callback(lambda _: self._on_finish())
        self._pending.append(task)
        return task

    def has_room(self) -> bool:
        """Whether another write may be submitted now."""
        return self.pending < self._limit

    async def wait_for_room(self) -> None:
        """Until fewer than ``limit`` writes are pending (callers bound the wait)."""
        while self.pending >= self._limit:
            await asyncio.wait([self._pending[0]])

    async def settled(self) -> None:
        """Until every write submitted so far has ended (callers bound the wait)."""
        self._forget_finished()
        if self._pending:
            await asyncio.wait(list(self._pending))

    async def drain(self, grace_seconds: float) -> None:
        """Wait (at most ``grace_seconds``) for the pending writes, then cancel what is left (logged)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace_seconds):
                await self.settled()
        self._forget_finished()
        if not self._pending:
            return
        logger.warning("%d session store writes still pending after %gs: abandoned", len(self._pending), grace_seconds)
        left = list(self._pending)
        for task in left:
            task.cancel()
        await asyncio.wait(left)
        self._forget_finished()

    async def _run(self, previous: asyncio.Task[None] | None, write: Write, what: str) -> None:
        try:
            if previous is not None and not previous.done():
                await asyncio.wait([previous])
            await write()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("unexpected failure while saving %s", what)

    def _forget_finished(self) -> None:
        if any(task.done() for task in self._pending):
            self._pending = [task for task in self._pending if not task.done()]
