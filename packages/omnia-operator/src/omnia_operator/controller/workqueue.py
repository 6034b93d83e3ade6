"""A work queue of de-duplicated keys, with the guarantees of client-go's workqueue.

- A key waits in the queue at most once: adding it again while it waits does nothing.
- A key is handed to one worker at a time: while it is being processed (`get` .. `done`), adds are noted
  ("dirty") and the key goes back in the queue when `done` is called, so the change is processed once more.
- `add_after` delays a key; `add_rate_limited` delays it by its per-key exponential backoff, `forget` resets it.
- `shutdown` stops handing out keys (`get` returns None); keys being processed are finished by their workers.

Delayed keys need no timer task: `get` moves due keys into the queue and otherwise waits until the earliest
deadline (or an add). The clock is injectable, so tests move time instead of sleeping.
"""

import asyncio
import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from omnia_operator.controller.backoff import KeyedBackoff
from omnia_operator.controller.metrics import WORKQUEUE_ADDS, WORKQUEUE_DEPTH, WORKQUEUE_RETRIES

K = TypeVar("K", bound=Hashable)


class WorkQueue(Generic[K]):
    def __init__(
        self,
        name: str = "default",
        *,
        backoff: KeyedBackoff | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.name = name
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._delayed: list[tuple[float, int, K]] = []
        self._delayed_at: dict[K, float] = {}
        self._sequence = itertools.count()
        self._wakeup = asyncio.Event()
        self._shutdown = False
        self._backoff = backoff or KeyedBackoff()
        self._clock = clock or time.monotonic

    # ------------------------------------------------------------------ adding
    def add(self, key: K) -> None:
        if self._shutdown or key in self._dirty:
            return
        WORKQUEUE_ADDS.labels(self.name).inc()
        self._dirty.add(key)
        if key not in self._processing:
            self._queue.append(key)
            self._update_depth()
        self._notify()

    def add_after(self, key: K, delay: float) -> None:
        """Add `key` once `delay` seconds have passed; an earlier pending deadline for the key wins."""
        if self._shutdown:
            return
        if delay <= 0:
            self.add(key)
            return
        deadline = self._clock() + delay
        if key in self._delayed_at and self._delayed_at[key] <= deadline:
            return
        self._delayed_at[key] = deadline
        heapq.heappush(self._delayed, (deadline, next(self._sequence), key))
        self._notify()

    def add_rate_limited(self, key: K) -> None:
        """Add after the key's next backoff delay (exponential in its consecutive failures, jittered, capped)."""
        WORKQUEUE_RETRIES.labels(self.name).inc()
        self.add_after(key, self._backoff.next_delay(key))

    def forget(self, key: K) -> None:
        """Reset the key's backoff (call after it was processed successfully)."""
        self._backoff.forget(key)

    def num_requeues(self, key: K) -> int:
        return self._backoff.failures(key)

    # ------------------------------------------------------------------ taking
    def _promote_due(self) -> float | None:
        """Move due delayed keys into the queue; returns seconds until the next deadline (None if none)."""
        now = self._clock()
        while self._delayed:
            deadline, _, key = self._delayed[0]
            if self._delayed_at.get(key) != deadline:
                heapq.heappop(self._delayed)  # superseded by an earlier deadline
                continue
            if deadline > now:
                return deadline - now
            heapq.heappop(self._delayed)
            del self._delayed_at[key]
            self.add(key)
        return None

    async def get(self) -> K | None:
        """The next key to process, marked as processing; None once the queue is shut down."""
        while True:
            if self._shutdown:
                return None
            wait = self._promote_due()
            if self._queue:
                key = self._queue.popleft()
                self._dirty.discard(key)
                self._processing.add(key)
                self._update_depth()
                return key
            self._wakeup.clear()  # no await since the checks above, so no add can be missed
            try:
                async with asyncio.timeout(wait):
                    await self._wakeup.wait()
            except TimeoutError:
                pass

    def done(self, key: K) -> None:
        """Mark `key` processed; if it was added meanwhile, it goes back in the queue."""
        self._processing.discard(key)
        if key in self._dirty and not self._shutdown:
            self._queue.append(key)
            self._update_depth()
            self._notify()

    # ------------------------------------------------------------------ state
    def shutdown(self) -> None:
        self._shutdown = True
        self._notify()

    @property
    def is_shutdown(self) -> bool:
        return self._shutdown

    def __len__(self) -> int:
        """Keys ready to be processed (not counting delayed or in-flight keys)."""
        return len(self._queue)

    @property
    def processing(self) -> frozenset[K]:
        return frozenset(self._processing)

    @property
    def delayed(self) -> int:
        return len(self._delayed_at)

    def wake(self) -> None:
        """Re-check delayed keys now (after a test moved its clock)."""
        self._notify()

    def _update_depth(self) -> None:
        WORKQUEUE_DEPTH.labels(self.name).set(len(self._queue))

    def _notify(self) -> None:
        self._wakeup.set()
