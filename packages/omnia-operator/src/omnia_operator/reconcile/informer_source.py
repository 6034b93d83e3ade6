"""ObjectSource over the operator's informer caches (no API round trip for referenced objects)."""

from collections.abc import Mapping, Sequence

from omnia_operator.controller.informer import Informer
from omnia_operator.kube.resources import KubeObject
from omnia_operator.resolve.source import labels_match


class InformerObjectSource:
    """Reads from the informers given per kind name; one informer per watched namespace."""

    def __init__(self, informers: Mapping[str, Sequence[Informer]]) -> None:
        self._informers = informers

    async def get(self, kind: str, namespace: str, name: str) -> KubeObject | None:
        for informer in self._informers.get(kind, ()):
            if informer.namespace in (None, namespace):
                found = informer.get(name, namespace)
                if found is not None:
                    return found
        return None

    async def list(self, kind: str, namespace: str, labels: Mapping[str, str] | None = None) -> list[KubeObject]:
        found: list[KubeObject] = []
        for informer in self._informers.get(kind, ()):
            if informer.namespace in (None, namespace):
                found.extend(o for o in informer.list(namespace) if labels_match(o, labels))
        return found
