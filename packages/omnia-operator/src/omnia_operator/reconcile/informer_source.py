"""ObjectSource over the operator's informer caches (no API round trip for referenced objects).

PromptPacks by logical name come from the pack informers' name index (see mapping.py) when they carry it,
so resolving an agent does not walk every pack of its namespace.
"""

from collections.abc import Mapping, Sequence

from omnia_operator.controller.informer import Informer
from omnia_operator.kube.resources import KubeObject
from omnia_operator.reconcile.mapping import PACKS_BY_NAME
from omnia_operator.resolve.source import has_pack_name, labels_match


class InformerObjectSource:
    """Reads from the informers given per kind name; one informer per watched namespace."""

    def __init__(self, informers: Mapping[str, Sequence[Informer]]) -> None:
        self._informers = informers

    def _serving(self, kind: str, namespace: str) -> list[Informer]:
        return [i for i in self._informers.get(kind, ()) if i.namespace in (None, namespace)]

    async def get(self, kind: str, namespace: str, name: str) -> KubeObject | None:
        for informer in self._serving(kind, namespace):
            found = informer.get(name, namespace)
            if found is not None:
                return found
        return None

    async def prompt_packs_named(self, namespace: str, pack_name: str) -> list[KubeObject]:
        found: list[KubeObject] = []
        for informer in self._serving("PromptPack", namespace):
            if informer.has_index(PACKS_BY_NAME):
                found.extend(informer.by_index(PACKS_BY_NAME, (namespace, pack_name)))
            else:
                found.extend(o for o in informer.list(namespace) if has_pack_name(o, pack_name))
        return found

    async def list(self, kind: str, namespace: str, labels: Mapping[str, str] | None = None) -> list[KubeObject]:
        found: list[KubeObject] = []
        for informer in self._serving(kind, namespace):
            found.extend(o for o in informer.list(namespace) if labels_match(o, labels))
        return found
