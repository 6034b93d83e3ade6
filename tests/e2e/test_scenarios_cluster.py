"""The e2e scenarios (e2e_scenarios.SCENARIOS) on a real cluster: marker e2e, skipped unless KUBECONFIG is set.

    KUBECONFIG=~/.kube/config uv run pytest -m e2e tests/e2e

Each scenario gets a fresh `omnia-e2e-<random>` namespace (deleted afterwards) and runs the operator logic
in-process against the cluster, as `omnia-operator run --namespaces <ns>` would; the CRDs are applied first
(created, or replaced by this checkout's version). The agent pods need the images to start; no scenario waits
for them. The same scenarios run against the FakeKubeAPI in test_scenarios_fake.py on every CI run.
"""

import os
from collections.abc import AsyncIterator

import pytest
from e2e_cluster import Cluster, real_cluster, scratch_namespace
from e2e_scenarios import SCENARIOS, Scenario

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    async with real_cluster(os.environ.get("KUBECONFIG")) as real:
        yield real


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_scenario_holds_on_a_real_cluster(cluster: Cluster, scenario: Scenario) -> None:
    async with scratch_namespace(cluster) as namespace:
        await scenario(cluster, namespace)
