"""The manager: owns the informers, the controllers and leader election, and shuts them down in order.

Start: informers first (every replica keeps a warm cache, so a standby can take over at once), wait until
they have synced, then, when leader election is on, wait to lead; then start the controllers.
Stop (`stop()`, e.g. on SIGTERM): close the controllers' queues and let in-flight reconciles finish (bounded by
`shutdown_timeout`, after which they are cancelled), stop the informers, release the Lease.
Losing leadership while running ends `run()` with LeadershipLostError after the controllers have stopped,
so the process exits and restarts as a candidate, as controller-runtime does.
"""

import asyncio
import contextlib
import logging

from omnia_operator.controller.controller import Controller
from omnia_operator.controller.informer import Informer
from omnia_operator.controller.leader import LeaderElector, LeadershipLostError
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.resources import ResourceKind

logger = logging.getLogger(__name__)


class Manager:
    def __init__(
        self,
        client: KubeClient,
        *,
        leader_elector: LeaderElector | None = None,
        shutdown_timeout: float = 30.0,
        watch_timeout: int = 300,
    ) -> None:
        self.client = client
        self.leader_elector = leader_elector
        self.shutdown_timeout = shutdown_timeout
        self.watch_timeout = watch_timeout
        self._informers: dict[tuple[ResourceKind, str | None, str | None], Informer] = {}
        self.controllers: list[Controller] = []
        self._stop = asyncio.Event()
        self.started = asyncio.Event()
        """Set once the controllers run (this instance leads, or leader election is off)."""

    def informer(self, kind: ResourceKind, namespace: str | None = None, label_selector: str | None = None) -> Informer:
        """The shared informer for this kind/namespace/selector (created on first use; add before `run`)."""
        key = (kind, namespace, label_selector)
        if key not in self._informers:
            self._informers[key] = Informer(
                self.client, kind, namespace=namespace, label_selector=label_selector, watch_timeout=self.watch_timeout
            )
        return self._informers[key]

    @property
    def informers(self) -> list[Informer]:
        return list(self._informers.values())

    def add_controller(self, controller: Controller) -> Controller:
        self.controllers.append(controller)
        return controller

    @property
    def ready(self) -> bool:
        """For /readyz: every informer has synced (a standby replica is ready too)."""
        return all(informer.has_synced for informer in self._informers.values())

    def stop(self) -> None:
        self._stop.set()

    async def _wait(self, *awaitables: asyncio.Future[object] | asyncio.Task[object]) -> None:
        """Wait until stop is requested or any of `awaitables` is done."""
        stop = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait([stop, *awaitables], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stop

    async def run(self) -> None:
        lost = False
        async with asyncio.TaskGroup() as group:
            informer_tasks = [group.create_task(i.run(), name=f"informer-{i.kind.plural}") for i in self.informers]
            synced = asyncio.ensure_future(self._all_synced())
            election: asyncio.Task[None] | None = None
            controller_tasks: list[asyncio.Task[None]] = []
            try:
                await self._wait(synced)
                if not self._stop.is_set() and self.leader_elector is not None:
                    election = group.create_task(self.leader_elector.run(), name="leader-election")
                    leading = asyncio.ensure_future(self.leader_elector.is_leader.wait())
                    try:
                        await self._wait(leading, election)
                    finally:
                        leading.cancel()
                    if election.done() and not self._stop.is_set():
                        lost = True
                if not self._stop.is_set() and not lost:
                    controller_tasks = [
                        group.create_task(c.run(), name=f"controller-{c.name}") for c in self.controllers
                    ]
                    self.started.set()
                    logger.info("manager: %d controllers started", len(controller_tasks))
                    waiting_on: list[asyncio.Task[None]] = [*controller_tasks] + ([election] if election else [])
                    await self._wait(*waiting_on)
                    if election is not None and election.done() and not self._stop.is_set():
                        lost = True
            finally:
                synced.cancel()
                await self._shutdown(controller_tasks, informer_tasks, election)
        if lost:
            raise LeadershipLostError("leader election lost: stopping so that only the new leader reconciles")

    async def _all_synced(self) -> None:
        for informer in self.informers:
            await informer.wait_synced()

    async def _shutdown(
        self,
        controller_tasks: list[asyncio.Task[None]],
        informer_tasks: list[asyncio.Task[None]],
        election: asyncio.Task[None] | None,
    ) -> None:
        for controller in self.controllers:
            controller.stop()
        if controller_tasks:
            _, pending = await asyncio.wait(controller_tasks, timeout=self.shutdown_timeout)
            for task in pending:
                logger.warning(
                    "manager: %s did not finish within %.0fs; cancelling", task.get_name(), self.shutdown_timeout
                )
                task.cancel()
        for task in informer_tasks:
            task.cancel()
        if self.leader_elector is not None:
            self.leader_elector.stop()
        if election is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await election
        self.started.clear()
