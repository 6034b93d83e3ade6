"""Where resolution reads referenced objects from: a tiny protocol with an in-memory implementation."""

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

KubeObject = dict[str, Any]


class ObjectSource(Protocol):
    """Read access to objects by kind name (\"PromptPack\", \"Secret\", ...), namespace and name."""

    async def get(self, kind: str, namespace: str, name: str) -> KubeObject | None: ...

    async def prompt_packs_named(self, namespace: str, pack_name: str) -> list[KubeObject]:
        """PromptPacks whose logical name (``spec.packName``, else ``metadata.name``) is `pack_name`."""
        ...

    async def list(self, kind: str, namespace: str, labels: Mapping[str, str] | None = None) -> list[KubeObject]: ...


def raw_pack_name(raw: Any) -> str | None:
    """``spec.packName`` or else ``metadata.name`` of an unparsed PromptPack (what ``pack_name`` returns once
    parsed); None when that is not a string (such a pack cannot parse, so no agent can use it)."""
    spec = raw.get("spec") if isinstance(raw, dict) else None
    declared = spec.get("packName") if isinstance(spec, dict) else None
    if declared:
        return declared if isinstance(declared, str) else None
    meta = raw.get("metadata") if isinstance(raw, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else None


def has_pack_name(obj: KubeObject, pack_name: str) -> bool:
    """The logical name test of `prompt_packs_named`, for sources without an index."""
    return raw_pack_name(obj) == pack_name


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

    async def prompt_packs_named(self, namespace: str, pack_name: str) -> list[KubeObject]:
        return [o for o in await self.list("PromptPack", namespace) if has_pack_name(o, pack_name)]

    async def list(self, kind: str, namespace: str, labels: Mapping[str, str] | None = None) -> list[KubeObject]:
        return [
            o
            for (k, ns, _), o in sorted(self._objects.items())
            if k == kind and ns == namespace and labels_match(o, labels)
        ]
