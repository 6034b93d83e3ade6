"""A fake Kubernetes API server for tests, which kubernetes-asyncio (and so `KubeClient`) talks to unchanged.

    async with FakeKubeAPI(crds=my_crds) as api, KubeClient.for_url(api.url) as kube:
        await kube.create(CONFIG_MAP, {"metadata": {"name": "a", "namespace": "default"}})
        before = api.write_count
        ...                                   # run a reconcile
        assert api.write_count == before      # it wrote nothing
        api.faults.error_rate = 0.3           # a third of the requests now fail with 500
        api.faults.drop_watches()             # cut every open watch
        api.compact()                         # watches from older versions now get 410 Gone
        api.send_bookmarks()                  # BOOKMARK on every watch that allows them
        api.object(CONFIG_MAP, "a", "default")  # inspect without a request

Semantics and deliberate differences from a real API server are listed in `server.py`.
"""

from omnia_operator.testing.fakekube.faults import Faults
from omnia_operator.testing.fakekube.server import FakeKubeAPI, RequestRecord
from omnia_operator.testing.fakekube.store import ObjectStore

__all__ = ("FakeKubeAPI", "Faults", "ObjectStore", "RequestRecord")
