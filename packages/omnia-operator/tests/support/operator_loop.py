"""The running operator against the fake API, for the process-level tests.

`running_operator` runs the real manager (informers, queues, workers) in a task of the test; `eventually` waits
for a condition with a bound. It polls: the operator has no "settled" event, and its reads of the fake API
are what the checks look at.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from omnia_operator.controller.manager import Manager
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import NotFoundError
from omnia_operator.process import build_manager
from omnia_operator.reconcile.kube_source import KINDS
from omnia_operator.settings import OperatorSettings
from omnia_operator.testing.fakekube import FakeKubeAPI

WAIT = 30.0
POLL = 0.05
CONFIG_HASH = "omnia.altairalabs.ai/config-hash"


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = WAIT) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not await check():
                await asyncio.sleep(POLL)
    except TimeoutError:
        pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def operator_settings(**overrides: Any) -> OperatorSettings:
    return OperatorSettings(facade_image="f:1", runtime_image="r:1", workers=2, shutdown_timeout=5, **overrides)


@contextlib.asynccontextmanager
async def running(manager: Manager) -> AsyncIterator[Manager]:
    """Run `manager` until the block ends, then stop it and wait for its shutdown."""
    async with asyncio.TaskGroup() as group:
        group.create_task(manager.run())
        try:
            yield manager
        finally:
            manager.stop()


@contextlib.asynccontextmanager
async def running_operator(api: FakeKubeAPI, settings: OperatorSettings | None = None) -> AsyncIterator[Manager]:
    """The operator (its own client, `operator_settings()` unless given) running against `api`."""
    async with (
        KubeClient.for_url(api.url) as client,
        running(build_manager(client, settings or operator_settings())) as manager,
    ):
        yield manager


async def create_all(kube: KubeClient, objects: list[dict[str, Any]]) -> None:
    """Create the objects as a user would (server-set metadata such as uid and generation dropped)."""
    for obj in objects:
        meta = {k: v for k, v in obj["metadata"].items() if k not in ("uid", "generation")}
        await kube.create(KINDS[obj["kind"]], {**obj, "metadata": meta})


async def config_hash(kube: KubeClient, name: str, namespace: str = "default") -> str | None:
    """The config-hash annotation of Deployment `name`'s pod template, or None when there is no Deployment."""
    try:
        deployment = await kube.get(kinds.DEPLOYMENT, name, namespace)
    except NotFoundError:
        return None
    return deployment["spec"]["template"]["metadata"]["annotations"].get(CONFIG_HASH)
