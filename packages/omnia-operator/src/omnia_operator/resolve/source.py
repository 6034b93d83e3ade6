"""Where resolution reads referenced objects from: a tiny protocol with an in-memory implementation."""

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

KubeObject = dict[str, Any]


class ObjectSource(Protocol):
    """Read access to objects by kind name (\"PromptPack\", \"Secret\", ...), namespace and name."""

    async def get(self, kind: str, namespace: str, name: str) -> KubeObject | None: ...

    async def list(self, kind: str, namespace: str, labels: Mapping[str, str] | None = None) -> list[KubeObject]: ...


def labels_match(obj: KubeObject, labels: Mapping[str, str] | None) -> bool:
    if not labels:
        return True
    have = (obj.get("metadata") or {}).get("labels") or {}
    return all(have.get(k) == v for k, v in labels.items())


class StaticObjectSource:
    """Objects held in memory (parsed manifests for render and local mode, or a test's fixtures)."""

    def __init__(self, objects: Iterable[KubeObject] = (), *, default_namespace: str = "default") -> None:
        self._default_namespace = default_namespace
        self._objects: dict[tuple[str, str, str], KubeObject] = {}
        for obj in objects:
            self.add(obj)

    def add(self, obj: KubeObject) -> None:
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") or self._default_namespace
        self._objects[(str(obj.get("kind")), namespace, str(meta.get("name")))] = obj

    def objects(self, kind: str | None = None) -> list[KubeObject]:
        return [o for (k, _, _), o in self._objects.items() if kind is None or k == kind]

    async def get(self, kind: str, namespace: str, name: str) -> KubeObject | None:
        return self._objects.get((kind, namespace, name))

    async def list(self, kind: str, namespace: str, labels: Mapping[str, str] | None = None) -> list[KubeObject]:
        return [
            o
            for (k, ns, _), o in sorted(self._objects.items())
            if k == kind and ns == namespace and labels_match(o, labels)
        ]
