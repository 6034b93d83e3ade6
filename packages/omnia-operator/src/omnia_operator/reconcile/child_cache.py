"""Owned children read from the informer caches instead of the API (the first read of each apply).

An agent reconcile used to GET each child (tools ConfigMap, Deployment, Service, the canary Deployment) before
deciding whether to write: about half of its API requests. The operator already watches these kinds, so
the apply reads the cached object first, as controller-runtime's cached client does. A stale cache is safe:
- the cache lags behind a change: every change of a child reaches its owner through its watch (mapping.
  owner_agent), so the agent is reconciled again once the cache has caught up;
- the cache says absent but the object exists: the create answers AlreadyExists and the next attempt reads
  the API (so does any retry, a conflict on update, and a child that looks owned by someone else);
- a delete of a child the cache does not hold is skipped; when it shows up in the cache its event brings
  the agent back, and that reconcile deletes it.
Deployments and Services are watched with the managed-by label only; an unlabelled object of the same name
is absent from the cache, and the create → AlreadyExists → API read path reports the conflict as before.
"""

from collections.abc import Mapping, Sequence

from omnia_operator.controller.informer import Informer
from omnia_operator.kube.resources import KubeObject, ResourceKind


class ChildCache:
    """Cached children by kind name (\"Deployment\", ...), one informer per watched namespace."""

    def __init__(self, informers: Mapping[str, Sequence[Informer]]) -> None:
        self._informers = informers

    def _serving(self, kind: ResourceKind, namespace: str) -> list[Informer]:
        return [i for i in self._informers.get(kind.kind, ()) if i.namespace in (None, namespace)]

    def serves(self, kind: ResourceKind, namespace: str) -> bool:
        return bool(self._serving(kind, namespace))

    def get(self, kind: ResourceKind, name: str, namespace: str) -> KubeObject | None:
        """The cached object (do not modify it), or None when the cache does not hold it."""
        for informer in self._serving(kind, namespace):
            found = informer.get(name, namespace)
            if found is not None:
                return found
        return None
