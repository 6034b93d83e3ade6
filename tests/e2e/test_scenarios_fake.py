"""The e2e scenarios (e2e_scenarios.SCENARIOS) against the project's FakeKubeAPI, in every CI run (no e2e marker).

The same functions run on a real cluster in test_scenarios_cluster.py; here they prove the scenario code itself
works, so the cluster suite is not dead code that only breaks when someone finally points it at a cluster.
The last tests check the scenario machinery itself: the idempotency watch does see a write, and a scenario that
times out fails with its own message.
"""

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator

import pytest
from e2e_cluster import Cluster, eventually, fake_cluster, operator, scratch_namespace
from e2e_scenarios import AGENT, SCENARIOS, Scenario, converge, create_all, quickstart_objects, watch_for_writes

from omnia_operator.kube import resources as kinds


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    async with fake_cluster() as fake:
        yield fake


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_scenario_holds_on_the_fake_api(cluster: Cluster, scenario: Scenario) -> None:
    async with scratch_namespace(cluster) as namespace:
        await scenario(cluster, namespace)


def test_the_fake_runner_is_not_marked_e2e(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("e2e") is None


async def test_the_idempotency_watch_reports_a_write_to_a_child_when_one_happens(cluster: Cluster) -> None:
    async with scratch_namespace(cluster) as namespace:
        await create_all(cluster, quickstart_objects(namespace))
        async with operator(cluster, namespace):
            await converge(cluster, namespace)
            listed = await cluster.kube.list(kinds.SERVICE, namespace)
            service = next(o for o in listed.items if o["metadata"]["name"] == AGENT)
            writes: list[str] = []
            edit = {"metadata": {"labels": {"edited-by": "test"}}}
            await cluster.kube.patch(kinds.SERVICE, AGENT, edit, namespace=namespace)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(cluster.quiet_s):
                    await watch_for_writes(cluster, kinds.SERVICE, namespace, service, listed.resource_version, writes)
            assert writes
            assert writes[0].startswith(f"MODIFIED Service/{AGENT}")


async def test_a_scenario_that_times_out_fails_with_its_own_message_not_a_task_group(cluster: Cluster) -> None:
    impatient = dataclasses.replace(cluster, wait_s=0.2)

    async def never() -> bool:
        return False

    async with scratch_namespace(cluster) as namespace:
        with pytest.raises(pytest.fail.Exception, match=r"\[fake\] timed out after 0.2s waiting for the impossible"):
            async with operator(impatient, namespace):
                await eventually(impatient, never, "the impossible")
