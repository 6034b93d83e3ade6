"""A fake Kubernetes API server for tests: `async with FakeKubeAPI() as api:` then point a client at `api.url`."""

from omnia_operator.testing.fakekube.faults import Faults
from omnia_operator.testing.fakekube.server import FakeKubeAPI, RequestRecord
from omnia_operator.testing.fakekube.store import ObjectStore

__all__ = ("FakeKubeAPI", "Faults", "ObjectStore", "RequestRecord")
