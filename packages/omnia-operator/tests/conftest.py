"""Operator test set-up: the shared test support (tests/support) importable under importlib mode, and the
`api` (a fresh fake API server with the CRDs) and `kube` (a client for the test's own requests) fixtures that
the process-level tests share; test directories with their own needs override them."""

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from omnia_operator.api.crds import all_crds
from omnia_operator.kube.client import KubeClient, RetryPolicy
from omnia_operator.testing.fakekube import FakeKubeAPI

_SUPPORT = str(Path(__file__).resolve().parent / "support")
if _SUPPORT not in sys.path:
    sys.path.insert(0, _SUPPORT)


@pytest.fixture
async def api() -> AsyncIterator[FakeKubeAPI]:
    async with FakeKubeAPI(crds=all_crds(), bookmark_interval=None) as fake:
        yield fake


@pytest.fixture
async def kube(api: FakeKubeAPI) -> AsyncIterator[KubeClient]:
    async with KubeClient.for_url(api.url, retry=RetryPolicy(attempts=3)) as client:
        yield client
