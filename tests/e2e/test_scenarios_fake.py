"""The e2e scenarios (e2e_scenarios.SCENARIOS) against the project's FakeKubeAPI, in every CI run (no e2e marker).

The same functions run on a real cluster in test_scenarios_cluster.py; here they prove the scenario code itself
works, so the cluster suite is not dead code that only breaks when someone finally points it at a cluster.
"""

from collections.abc import AsyncIterator

import pytest
from e2e_cluster import Cluster, fake_cluster, scratch_namespace
from e2e_scenarios import SCENARIOS, Scenario


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
