from collections.abc import AsyncIterator

import pytest

from omnia_operator.kube.client import KubeClient, RetryPolicy
from omnia_operator.testing.fakekube import FakeKubeAPI
from omnia_operator.testing.timing import ManualClock


@pytest.fixture
async def api() -> AsyncIterator[FakeKubeAPI]:
    async with FakeKubeAPI() as fake:
        yield fake


@pytest.fixture
async def kube(api: FakeKubeAPI) -> AsyncIterator[KubeClient]:
    async with KubeClient.for_url(api.url, retry=RetryPolicy(attempts=3, base=0.001, cap=0.01)) as client:
        yield client


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()
