"""Which objects to reconcile when another object changes (the watches between kinds).

Each mapper takes a change (type, object, previous object) and returns keys to enqueue. They read the
AgentRuntimes / Providers / PromptPacks from a lookup function (an informer cache in the operator), so
they are pure and cheap. Secrets and ConfigMaps map to every AgentRuntime of their namespace: the
reconcile is level-based and writes nothing when nothing changed, so over-triggering is only a read.
"""

from collections.abc import Callable, Iterable
from typing import Any

from omnia_operator.controller.controller import ObjectKey
from omnia_operator.kube.resources import KubeObject

Lookup = Callable[[str | None], list[KubeObject]]


def _meta(obj: KubeObject) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return meta.get("namespace") or "", meta.get("name") or ""


def _spec(obj: KubeObject) -> dict[str, Any]:
    return obj.get("spec") or {}


def _key(obj: KubeObject) -> ObjectKey:
    namespace, name = _meta(obj)
    return ObjectKey(namespace, name)


def owner_agent(_event: str, obj: KubeObject, _old: KubeObject | None) -> Iterable[ObjectKey]:
    """A child (Deployment, Service, ConfigMap, HPA) → the AgentRuntime that controls it."""
    namespace, _ = _meta(obj)
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("kind") == "AgentRuntime" and ref.get("controller"):
            yield ObjectKey(namespace, ref.get("name", ""))


def _pack_names(obj: KubeObject | None) -> set[str]:
    if obj is None:
        return set()
    return {_spec(obj).get("packName") or _meta(obj)[1]}


def agents_using_pack(agents: Lookup) -> Callable[[str, KubeObject, KubeObject | None], list[ObjectKey]]:
    def mapper(_event: str, obj: KubeObject, old: KubeObject | None) -> list[ObjectKey]:
        namespace, _ = _meta(obj)
        names = _pack_names(obj) | _pack_names(old)
        return [_key(a) for a in agents(namespace) if (_spec(a).get("promptPackRef") or {}).get("name") in names]

    return mapper


def agents_using_provider(agents: Lookup) -> Callable[[str, KubeObject, KubeObject | None], list[ObjectKey]]:
    def mapper(_event: str, obj: KubeObject, _old: KubeObject | None) -> list[ObjectKey]:
        namespace, name = _meta(obj)
        keys = []
        for agent in agents(None):
            agent_ns = _meta(agent)[0]
            for binding in _spec(agent).get("providers") or []:
                ref = binding.get("providerRef") or {}
                if ref.get("name") == name and (ref.get("namespace") or agent_ns) == namespace:
                    keys.append(_key(agent))
                    break
        return keys

    return mapper


def agents_using_registry(agents: Lookup) -> Callable[[str, KubeObject, KubeObject | None], list[ObjectKey]]:
    def mapper(_event: str, obj: KubeObject, _old: KubeObject | None) -> list[ObjectKey]:
        namespace, name = _meta(obj)
        return [_key(a) for a in agents(namespace) if (_spec(a).get("toolRegistryRef") or {}).get("name") == name]

    return mapper


def agents_in_namespace(agents: Lookup) -> Callable[[str, KubeObject, KubeObject | None], list[ObjectKey]]:
    """Secrets and ConfigMaps: every agent of the namespace (children map to their owner instead)."""

    def mapper(event: str, obj: KubeObject, old: KubeObject | None) -> list[ObjectKey]:
        owners = list(owner_agent(event, obj, old))
        if owners:
            return owners
        namespace, _ = _meta(obj)
        return [_key(a) for a in agents(namespace)]

    return mapper


def providers_using_secret(providers: Lookup) -> Callable[[str, KubeObject, KubeObject | None], list[ObjectKey]]:
    def mapper(_event: str, obj: KubeObject, _old: KubeObject | None) -> list[ObjectKey]:
        namespace, name = _meta(obj)
        return [
            _key(p)
            for p in providers(namespace)
            if ((_spec(p).get("credential") or {}).get("secretRef") or {}).get("name") == name
        ]

    return mapper


def packs_using_config_map(packs: Lookup) -> Callable[[str, KubeObject, KubeObject | None], list[ObjectKey]]:
    def mapper(_event: str, obj: KubeObject, _old: KubeObject | None) -> list[ObjectKey]:
        namespace, name = _meta(obj)
        return [
            _key(p)
            for p in packs(namespace)
            if ((_spec(p).get("source") or {}).get("configMapRef") or {}).get("name") == name
        ]

    return mapper


def registries_using_secret(registries: Lookup) -> Callable[[str, KubeObject, KubeObject | None], list[ObjectKey]]:
    def mapper(_event: str, obj: KubeObject, _old: KubeObject | None) -> list[ObjectKey]:
        namespace, name = _meta(obj)
        return [
            _key(r)
            for r in registries(namespace)
            if any(
                ((h.get("auth") or {}).get("secretRef") or {}).get("name") == name
                for h in _spec(r).get("handlers") or []
            )
        ]

    return mapper


def packs_of_canary(packs: Lookup) -> Callable[[str, KubeObject, KubeObject | None], list[ObjectKey]]:
    """A candidate Deployment `<agent>-canary` → the PromptPack whose rollout waits on its pods."""

    def mapper(_event: str, obj: KubeObject, _old: KubeObject | None) -> list[ObjectKey]:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        logical = labels.get("omnia.altairalabs.ai/promptpack")
        if labels.get("omnia.altairalabs.ai/track") != "canary" or not logical:
            return []
        namespace, _ = _meta(obj)
        return [_key(p) for p in packs(namespace) if (_spec(p).get("packName") or _meta(p)[1]) == logical]

    return mapper
