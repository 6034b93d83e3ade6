"""Lease-based leader election (`coordination.k8s.io/v1` Lease), with client-go's rules.

- The Lease records `holderIdentity`, `leaseDurationSeconds`, `acquireTime`, `renewTime`, `leaseTransitions`.
  Every write is conditional on the Lease's resourceVersion, so two candidates cannot both win a round.
- A candidate never trusts the other side's clock: a lease held by someone else counts as expired only when
  its record has not changed for `lease_duration` seconds of the candidate's OWN clock since it last saw it change.
- The leader renews every `retry_period`; if it cannot renew for `renew_deadline` (< `lease_duration`) it steps
  down, so it has stopped leading before any other candidate may consider the lease expired. It also steps
  down at once when it sees another holder.
- On graceful stop the leader releases the Lease (empty holder), so a standby takes over without waiting.
"""

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from omnia_operator.controller.metrics import LEADER_STATUS
from omnia_operator.kube import errors
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.resources import LEASE, KubeObject

logger = logging.getLogger(__name__)


class LeadershipLostError(Exception):
    """This instance stopped leading while it was running controllers; the process should exit and restart."""


def _micro_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    def __init__(
        self,
        client: KubeClient,
        *,
        name: str,
        namespace: str,
        identity: str,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not 0 < retry_period < renew_deadline < lease_duration:
            raise ValueError(
                "leader election needs 0 < retry_period < renew_deadline < lease_duration, got "
                f"{retry_period} / {renew_deadline} / {lease_duration}"
            )
        if not identity:
            raise ValueError("leader election needs a non-empty identity (the pod name is a good one)")
        self.client = client
        self.name = name
        self.namespace = namespace
        self.identity = identity
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._rng = random.Random()
        self.is_leader = asyncio.Event()
        self.observed_holder = ""
        self._observed_spec: dict[str, Any] | None = None
        self._observed_at = 0.0
        self._stop = asyncio.Event()

    def __repr__(self) -> str:
        return f"LeaderElector({self.namespace}/{self.name}, identity={self.identity!r})"

    def _observe(self, spec: dict[str, Any]) -> None:
        if spec != self._observed_spec:
            self._observed_spec = dict(spec)
            self._observed_at = self._clock()
        self.observed_holder = spec.get("holderIdentity") or ""

    def _spec(self, previous: dict[str, Any] | None) -> dict[str, Any]:
        now = _micro_time(self._wall_clock())
        previous = previous or {}
        same_holder = previous.get("holderIdentity") == self.identity
        transitions = int(previous.get("leaseTransitions") or 0)
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": max(1, round(self.lease_duration)),
            "acquireTime": previous.get("acquireTime", now) if same_holder else now,
            "renewTime": now,
            "leaseTransitions": transitions if same_holder or not previous else transitions + 1,
        }

    async def try_acquire_or_renew(self) -> bool:
        """One round: True when this instance holds the Lease afterwards. Raises KubeError on API failures."""
        try:
            lease = await self.client.get(LEASE, self.name, self.namespace)
        except errors.NotFoundError:
            body: KubeObject = {
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": self._spec(None),
            }
            try:
                created = await self.client.create(LEASE, body)
            except (errors.AlreadyExistsError, errors.ConflictError):
                return False
            self._observe(created.get("spec") or {})
            return True
        spec = lease.get("spec") or {}
        self._observe(spec)
        holder = spec.get("holderIdentity") or ""
        duration = float(spec.get("leaseDurationSeconds") or self.lease_duration)
        if holder and holder != self.identity and self._clock() < self._observed_at + duration:
            return False
        try:
            updated = await self.client.replace(LEASE, {**lease, "spec": self._spec(spec)})
        except errors.ConflictError:
            return False
        self._observe(updated.get("spec") or {})
        return True

    async def _attempt(self) -> bool:
        try:
            async with asyncio.timeout(self.renew_deadline):
                return await self.try_acquire_or_renew()
        except (errors.KubeError, TimeoutError) as e:
            logger.warning("%r: lease round failed: %s", self, e)
            return False

    def _set_leader(self, leading: bool) -> None:
        if leading and not self.is_leader.is_set():
            logger.info("%r: became leader", self)
        elif not leading and self.is_leader.is_set():
            logger.warning("%r: stopped leading", self)
        (self.is_leader.set if leading else self.is_leader.clear)()
        LEADER_STATUS.labels(self.name).set(1 if leading else 0)

    async def _pause(self, seconds: float) -> bool:
        """Wait `seconds` (or until stop); True when asked to stop."""
        if self._stop.is_set():
            return True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stop.wait()
        return self._stop.is_set()

    async def run(self) -> None:
        """Acquire, then renew until stopped or cancelled (releases the Lease) or until leadership is lost (returns)."""
        lost = False
        try:
            while not await self._attempt():
                if await self._pause(self.retry_period * (1 + 0.2 * self._rng.random())):
                    return
            self._set_leader(True)
            last_renewal = self._clock()
            while not await self._pause(self.retry_period):
                if await self._attempt():
                    last_renewal = self._clock()
                    continue
                if self.observed_holder not in ("", self.identity):
                    logger.warning("%r: the lease is now held by %s", self, self.observed_holder)
                    lost = True
                    break
                if self._clock() - last_renewal >= self.renew_deadline:
                    logger.warning("%r: could not renew the lease for %.1fs", self, self.renew_deadline)
                    lost = True
                    break
        finally:
            if self.is_leader.is_set() and not lost:
                await asyncio.shield(self.release())
            self._set_leader(False)

    def stop(self) -> None:
        """Ask `run` to release the Lease and return."""
        self._stop.set()

    async def release(self) -> None:
        """Give the Lease up (empty holder, 1 s duration) if this instance holds it; failures are only logged."""
        try:
            async with asyncio.timeout(self.renew_deadline):
                lease = await self.client.get(LEASE, self.name, self.namespace)
                spec = lease.get("spec") or {}
                if spec.get("holderIdentity") != self.identity:
                    return
                now = _micro_time(self._wall_clock())
                released = {**spec, "holderIdentity": "", "leaseDurationSeconds": 1, "renewTime": now}
                await self.client.replace(LEASE, {**lease, "spec": released})
                logger.info("%r: released the lease", self)
        except (errors.KubeError, TimeoutError) as e:
            logger.warning("%r: could not release the lease: %s", self, e)
        finally:
            self._set_leader(False)
