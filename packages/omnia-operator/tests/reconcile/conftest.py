from collections.abc import AsyncIterator

import pytest

from omnia_operator.api.crds import all_crds
from omnia_operator.kube.client import KubeClient, RetryPolicy
from omnia_operator.testing.fakekube import FakeKubeAPI


@pytest.fixture
async def api() -> AsyncIterator[FakeKubeAPI]:
    async with FakeKubeAPI(crds=all_crds()) as fake:
        yield fake


@pytest.fixture
async def kube(api: FakeKubeAPI) -> AsyncIterator[KubeClient]:
    async with KubeClient.for_url(api.url, retry=RetryPolicy(attempts=3)) as client:
        yield client
