"""The "cluster" the e2e scenarios run against: the project's FakeKubeAPI in CI, or a real cluster (KUBECONFIG).

A scenario only sees a `Cluster`: a `KubeClient` for its own reads and writes, `connect()` for the separate client
each operator instance gets (as a real operator pod has its own connection), and the pacing that suits the
backend (`wait_s` for every wait, `poll_s` between polls, `quiet_s` for the idempotency window). Everything else
(namespaces, the operator logic run in-process exactly as `omnia-operator run` assembles it, polling) is written
once here, so the fake run and the real run execute the same code.

Pacing is the main difference: a real cluster schedules, garbage-collects and serves watches asynchronously, so
its waits are generous (REAL_WAIT_S); the fake answers at once, so a broken scenario fails fast in CI. The other is
`mutations`: the fake can count write requests per object, a real API server cannot (scenarios use it when set).
"""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from omnia_operator.api.crds import all_crds
from omnia_operator.controller.manager import Manager
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient, RetryPolicy
from omnia_operator.kube.errors import AlreadyExistsError, ConflictError, NotFoundError
from omnia_operator.process import build_manager
from omnia_operator.settings import OperatorSettings
from omnia_operator.testing.fakekube import FakeKubeAPI
from omnia_operator.testing.fakekube.server import MUTATING

FAKE_WAIT_S = 15.0
FAKE_POLL_S = 0.05
FAKE_QUIET_S = 1.0
REAL_WAIT_S = 180.0
REAL_POLL_S = 0.5
REAL_QUIET_S = 10.0
NAMESPACE_PREFIX = "omnia-e2e-"


@dataclass
class Cluster:
    """What a scenario runs against; build one with `fake_cluster()` or `real_cluster()`."""

    name: str
    kube: KubeClient
    connect: Callable[[], Awaitable[KubeClient]]
    wait_s: float
    poll_s: float
    quiet_s: float
    mutations: Callable[[kinds.ResourceKind, str, str], int] | None = None
    """Mutating requests so far on (kind, namespace, name), where the backend can count them (the fake can; a real
    API server cannot, and a no-op write there changes nothing a watch could see)."""


async def eventually(cluster: Cluster, check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll `check` every `poll_s` until it is true; fail naming `what` after `wait_s`."""
    try:
        async with asyncio.timeout(cluster.wait_s):
            while not await check():
                await asyncio.sleep(cluster.poll_s)
    except TimeoutError:
        pytest.fail(f"[{cluster.name}] timed out after {cluster.wait_s:g}s waiting for {what}")


async def get_or_none(
    cluster: Cluster, kind: kinds.ResourceKind, name: str, namespace: str | None = None
) -> dict[str, Any] | None:
    try:
        return await cluster.kube.get(kind, name, namespace)
    except NotFoundError:
        return None


@contextlib.asynccontextmanager
async def fake_cluster() -> AsyncIterator[Cluster]:
    """A fresh FakeKubeAPI with the operator's CRDs registered."""
    async with FakeKubeAPI(crds=all_crds()) as api, KubeClient.for_url(api.url) as kube:

        async def connect() -> KubeClient:
            return KubeClient.for_url(api.url)

        def mutations(kind: kinds.ResourceKind, namespace: str, name: str) -> int:
            return sum(
                1
                for r in api.request_log
                if r.verb in MUTATING
                and (r.group, r.resource, r.namespace, r.name) == (kind.group, kind.plural, namespace, name)
            )

        yield Cluster("fake", kube, connect, FAKE_WAIT_S, FAKE_POLL_S, FAKE_QUIET_S, mutations)


@contextlib.asynccontextmanager
async def real_cluster(kubeconfig: str | None) -> AsyncIterator[Cluster]:
    """The cluster of `kubeconfig`, with the CRDs applied (created, or replaced when an older version is there)."""
    patient = RetryPolicy(attempts=8, cap=10.0)
    async with await KubeClient.from_kubeconfig(kubeconfig, retry=patient) as kube:

        async def connect() -> KubeClient:
            return await KubeClient.from_kubeconfig(kubeconfig)

        cluster = Cluster("real", kube, connect, REAL_WAIT_S, REAL_POLL_S, REAL_QUIET_S)
        await apply_crds(cluster)
        yield cluster


async def apply_crds(cluster: Cluster) -> None:
    for crd in all_crds():
        try:
            await cluster.kube.create(kinds.CRD, crd)
        except AlreadyExistsError:
            current = await cluster.kube.get(kinds.CRD, crd["metadata"]["name"])
            version = {"resourceVersion": current["metadata"]["resourceVersion"]}
            await cluster.kube.replace(kinds.CRD, {**crd, "metadata": {**crd["metadata"], **version}})

    async def served() -> bool:
        try:
            await cluster.kube.list(kinds.AGENT_RUNTIME, "default")
        except NotFoundError:
            return False
        return True

    await eventually(cluster, served, "the AgentRuntime CRD to be served")


@contextlib.asynccontextmanager
async def scratch_namespace(cluster: Cluster) -> AsyncIterator[str]:
    """A fresh namespace, deleted afterwards (AgentRuntime finalizers dropped first so nothing blocks it)."""
    name = f"{NAMESPACE_PREFIX}{uuid.uuid4().hex[:8]}"
    await cluster.kube.create(kinds.NAMESPACE, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    try:
        yield name
    finally:
        await _drop_finalizers(cluster, name)
        with contextlib.suppress(NotFoundError):
            await cluster.kube.delete(kinds.NAMESPACE, name)


async def _drop_finalizers(cluster: Cluster, namespace: str) -> None:
    for agent in (await cluster.kube.list(kinds.AGENT_RUNTIME, namespace)).items:
        if agent["metadata"].get("finalizers"):
            with contextlib.suppress(NotFoundError, ConflictError):
                patch = {"metadata": {"finalizers": None}}
                await cluster.kube.patch(kinds.AGENT_RUNTIME, agent["metadata"]["name"], patch, namespace=namespace)


def operator_settings(namespace: str, *, leader_elect: bool = False) -> OperatorSettings:
    """What `omnia-operator run --namespaces <ns>` would use; the lease (if any) lives in the scratch namespace."""
    return OperatorSettings(
        namespaces=[namespace],
        workers=2,
        shutdown_timeout=10,
        health_port=0,
        metrics_port=0,
        leader_elect=leader_elect,
        leader_election_namespace=namespace,
    )


@contextlib.asynccontextmanager
async def operator(cluster: Cluster, namespace: str) -> AsyncIterator[Manager]:
    """The operator logic running in-process (its own client) until the block ends; graceful stop on exit."""
    client = await cluster.connect()
    async with client:
        manager = build_manager(client, operator_settings(namespace))
        with single_error():
            async with asyncio.TaskGroup() as group:
                group.create_task(manager.run(), name="e2e-operator")
                try:
                    yield manager
                finally:
                    manager.stop()


@contextlib.contextmanager
def single_error() -> Iterator[None]:
    """Re-raise a task group's only error as itself, so a failed scenario reads as its own assertion."""
    try:
        yield
    except BaseExceptionGroup as group:
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise
