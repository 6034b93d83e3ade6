"""A controller: N workers taking keys from a `WorkQueue` and calling an async reconcile function.

The queue guarantees a key is never reconciled by two workers at once. A reconcile that raises is logged and
its key re-added with per-key exponential backoff; one that returns `ReconcileResult(requeue_after=s)` is
reconciled again after `s` seconds; success resets the key's backoff. `watch(informer, mapper)` turns cache
changes into keys: by default the changed object's own key, or any keys a mapper returns (for example the
AgentRuntimes that reference a changed Secret).

Shutdown (`stop`) closes the queue: workers finish the reconcile they are in, then return.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from omnia_operator.controller.backoff import Backoff, KeyedBackoff
from omnia_operator.controller.informer import ChangeType, Informer
from omnia_operator.controller.metrics import RECONCILE_ERRORS, RECONCILE_TIME, RECONCILE_TOTAL
from omnia_operator.controller.workqueue import WorkQueue
from omnia_operator.kube.resources import KubeObject

logger = logging.getLogger(__name__)


class ObjectKey(NamedTuple):
    namespace: str
    name: str

    @classmethod
    def of(cls, obj: KubeObject) -> "ObjectKey":
        metadata = obj.get("metadata") or {}
        return cls(metadata.get("namespace") or "", metadata.get("name") or "")

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass(frozen=True)
class ReconcileResult:
    requeue_after: float | None = None


Reconcile = Callable[[ObjectKey], Awaitable[ReconcileResult | None]]
KeyMapper = Callable[[ChangeType, KubeObject, KubeObject | None], Iterable[ObjectKey]]


def own_key(_event: ChangeType, obj: KubeObject, _old: KubeObject | None) -> Iterable[ObjectKey]:
    return (ObjectKey.of(obj),)


class Controller:
    def __init__(
        self,
        name: str,
        reconcile: Reconcile,
        *,
        workers: int = 2,
        backoff: Backoff | None = None,
        queue: WorkQueue[ObjectKey] | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"a controller needs at least one worker, not {workers}")
        self.name = name
        self.reconcile = reconcile
        self.workers = workers
        self.queue: WorkQueue[ObjectKey] = queue or WorkQueue(
            name, backoff=KeyedBackoff(backoff or Backoff(base=0.005, cap=300.0))
        )
        self.in_flight = 0

    def __repr__(self) -> str:
        return f"Controller({self.name!r})"

    def watch(self, informer: Informer, mapper: KeyMapper = own_key) -> None:
        """Enqueue the keys `mapper` returns for every change the informer sees."""

        def enqueue(event: ChangeType, obj: KubeObject, old: KubeObject | None) -> None:
            for key in mapper(event, obj, old):
                self.queue.add(key)

        informer.on_change(enqueue)

    async def _process(self, key: ObjectKey) -> None:
        started = time.perf_counter()
        self.in_flight += 1
        try:
            result = await self.reconcile(key)
        except asyncio.CancelledError:
            raise
        except Exception:
            RECONCILE_ERRORS.labels(self.name).inc()
            RECONCILE_TOTAL.labels(self.name, "error").inc()
            logger.exception("%s: reconcile of %s failed; retrying with backoff", self.name, key)
            self.queue.add_rate_limited(key)
            return
        finally:
            self.in_flight -= 1
            RECONCILE_TIME.labels(self.name).observe(time.perf_counter() - started)
            self.queue.done(key)
        self.queue.forget(key)
        if result is not None and result.requeue_after is not None:
            RECONCILE_TOTAL.labels(self.name, "requeue_after").inc()
            self.queue.add_after(key, result.requeue_after)
        else:
            RECONCILE_TOTAL.labels(self.name, "success").inc()

    async def _worker(self) -> None:
        while (key := await self.queue.get()) is not None:
            await self._process(key)

    async def run(self) -> None:
        """Run the workers until `stop()`; returns when every in-flight reconcile has finished."""
        async with asyncio.TaskGroup() as group:
            for index in range(self.workers):
                group.create_task(self._worker(), name=f"{self.name}-worker-{index}")

    def stop(self) -> None:
        self.queue.shutdown()
