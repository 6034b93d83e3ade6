import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest

from omnia_operator.kube.client import KubeClient, RetryPolicy
from omnia_operator.testing.fakekube import FakeKubeAPI


@pytest.fixture
async def api() -> AsyncIterator[FakeKubeAPI]:
    async with FakeKubeAPI() as fake:
        yield fake


@pytest.fixture
async def kube(api: FakeKubeAPI) -> AsyncIterator[KubeClient]:
    async with KubeClient.for_url(api.url, retry=RetryPolicy(attempts=1)) as client:
        yield client


WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "shortNames": ["wd"]},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            }
        ],
    },
}


@pytest.fixture
def widget_crd() -> dict[str, Any]:
    """A small CRD (example.com/v1 Widget, status subresource, schema that keeps unknown fields)."""
    return copy.deepcopy(WIDGET_CRD)
