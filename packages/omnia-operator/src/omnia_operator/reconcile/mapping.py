"""Which objects to reconcile when another object changes (the watches between kinds), through indexes.

Each mapper takes a change (type, object, previous object) and returns the keys to enqueue. It never scans
a cache: the informers carry indexes (defined here, registered by `add_indexes`) from each referenced object
to the objects that reference it, e.g. ``(namespace, pack name) → AgentRuntimes``. A mapper reads them through
an `Indexed` lookup ``(index name, value) → objects``, so one event costs O(its dependents), not O(agents).

What an AgentRuntime depends on, and how an event reaches it:
- PromptPack (by logical name: ``spec.packName`` or the object name; the old and the new name when it changes),
  Provider (``(namespace, name)``, across namespaces), ToolRegistry: the agent index of that reference;
- Secret: agents whose ``spec.context.storeRef`` names it, plus the agents of the Providers whose credential and
  of the ToolRegistries whose handler auth names it;
- ConfigMap: the agents of the PromptPacks whose source or active/canary snapshot it is;
- owned children (tools ConfigMap, Deployment, Service, ...): their controlling AgentRuntime.
Chained lookups (Secret → Provider → agents) are safe in either event order: an intermediate object that is
not cached yet maps its own ADDED event to its agents, which then read the caches as they are.
"""

from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from omnia_operator.api.models.resources import (
    Resource,
    parse_agent_runtime,
    parse_prompt_pack,
    parse_provider,
    parse_tool_registry,
)
from omnia_operator.controller.controller import ObjectKey
from omnia_operator.controller.indexer import IndexFunc
from omnia_operator.controller.informer import Informer
from omnia_operator.errors import InvalidResourceError
from omnia_operator.kube.resources import KubeObject
from omnia_operator.resolve.source import raw_pack_name

Indexed = Callable[[str, Hashable], list[KubeObject]]
"""(index name, value) → the cached objects filed under it (over every informer of one kind)."""
Mapper = Callable[[str, KubeObject, KubeObject | None], list[ObjectKey]]
ResourceT = TypeVar("ResourceT", bound=Resource[Any, Any])

AGENTS_BY_PACK = "agents-by-pack"
AGENTS_BY_PROVIDER = "agents-by-provider"
AGENTS_BY_REGISTRY = "agents-by-registry"
AGENTS_BY_SECRET = "agents-by-secret"
PACKS_BY_NAME = "packs-by-name"
PACKS_BY_SOURCE = "packs-by-source-config-map"
PACKS_BY_CONFIG_MAP = "packs-by-config-map"
PROVIDERS_BY_SECRET = "providers-by-secret"
REGISTRIES_BY_SECRET = "registries-by-secret"


def _meta(obj: KubeObject) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return meta.get("namespace") or "", meta.get("name") or ""


def _key(obj: KubeObject) -> ObjectKey:
    namespace, name = _meta(obj)
    return ObjectKey(namespace, name)


def _typed(obj: KubeObject, parse: Callable[[KubeObject], ResourceT]) -> ResourceT | None:
    """The cached object through its model; None when it does not parse (its own reconcile reports why,
    and nothing it references can make it usable, so it is filed under no index)."""
    try:
        return parse(obj)
    except InvalidResourceError:
        return None


# ---------------------------------------------------------------- index functions (object → values)
def agent_pack(obj: KubeObject) -> list[tuple[str, str]]:
    agent = _typed(obj, parse_agent_runtime)
    return [(agent.namespace, agent.spec.prompt_pack_ref.name)] if agent else []


def agent_providers(obj: KubeObject) -> list[tuple[str, str]]:
    agent = _typed(obj, parse_agent_runtime)
    if agent is None:
        return []
    refs = (binding.provider_ref for binding in agent.spec.providers)
    return [(ref.namespace or agent.namespace, ref.name) for ref in refs]


def agent_registry(obj: KubeObject) -> list[tuple[str, str]]:
    agent = _typed(obj, parse_agent_runtime)
    ref = agent.spec.tool_registry_ref if agent else None
    return [(agent.namespace, ref.name)] if agent and ref else []


def agent_secrets(obj: KubeObject) -> list[tuple[str, str]]:
    agent = _typed(obj, parse_agent_runtime)
    ref = agent.spec.context.store_ref if agent else None
    return [(agent.namespace, ref.name)] if agent and ref else []


def pack_names(pack: KubeObject) -> list[tuple[str, str]]:
    """By logical name, read raw on purpose: a pack that does not parse is still found (and reported invalid)."""
    name = raw_pack_name(pack)
    return [(_meta(pack)[0], name)] if name else []


def pack_source(obj: KubeObject) -> list[tuple[str, str]]:
    pack = _typed(obj, parse_prompt_pack)
    ref = pack.spec.source.config_map_ref if pack else None
    return [(pack.namespace, ref.name)] if pack and ref else []


def pack_config_maps(obj: KubeObject) -> list[tuple[str, str]]:
    """The source and the snapshots agents mount (see resolve.promptpacks.load_rollout)."""
    pack = _typed(obj, parse_prompt_pack)
    if pack is None:
        return []
    snapshots = (pack.status.active_snapshot, pack.status.canary_snapshot)
    return pack_source(obj) + [(pack.namespace, name) for name in snapshots if name]


def provider_secrets(obj: KubeObject) -> list[tuple[str, str]]:
    provider = _typed(obj, parse_provider)
    credential = provider.spec.credential if provider else None
    ref = credential.secret_ref if credential else None
    return [(provider.namespace, ref.name)] if provider and ref else []


def registry_secrets(obj: KubeObject) -> list[tuple[str, str]]:
    registry = _typed(obj, parse_tool_registry)
    if registry is None:
        return []
    auths = (handler.auth for handler in registry.spec.handlers)
    return [(registry.namespace, auth.secret_ref.name) for auth in auths if auth and auth.secret_ref]


AGENT_INDEXES: dict[str, IndexFunc] = {
    AGENTS_BY_PACK: agent_pack,
    AGENTS_BY_PROVIDER: agent_providers,
    AGENTS_BY_REGISTRY: agent_registry,
    AGENTS_BY_SECRET: agent_secrets,
}
PACK_INDEXES: dict[str, IndexFunc] = {
    PACKS_BY_NAME: pack_names,
    PACKS_BY_SOURCE: pack_source,
    PACKS_BY_CONFIG_MAP: pack_config_maps,
}
PROVIDER_INDEXES: dict[str, IndexFunc] = {PROVIDERS_BY_SECRET: provider_secrets}
REGISTRY_INDEXES: dict[str, IndexFunc] = {REGISTRIES_BY_SECRET: registry_secrets}


def add_indexes(informers: Iterable[Informer], indexes: dict[str, IndexFunc]) -> None:
    """Register `indexes` on each informer (skipping ones it already has: informers are shared)."""
    for informer in informers:
        for name, func in indexes.items():
            if not informer.has_index(name):
                informer.add_index(name, func)


def indexed(informers: list[Informer]) -> Indexed:
    """One lookup over the informers of a kind (one per watched namespace)."""
    return lambda name, value: [obj for informer in informers for obj in informer.by_index(name, value)]


def _unique(keys: Iterable[ObjectKey]) -> list[ObjectKey]:
    return list(dict.fromkeys(keys))


# ---------------------------------------------------------------- mappers (change → keys)
def owner_agent(_event: str, obj: KubeObject, _old: KubeObject | None) -> list[ObjectKey]:
    """A child (Deployment, Service, ConfigMap, HPA) → the AgentRuntime that controls it."""
    namespace, _ = _meta(obj)
    return [
        ObjectKey(namespace, ref.get("name", ""))
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or []
        if ref.get("kind") == "AgentRuntime" and ref.get("controller")
    ]


def agents_using_pack(agents: Indexed) -> Mapper:
    def mapper(_event: str, obj: KubeObject, old: KubeObject | None) -> list[ObjectKey]:
        names = pack_names(obj) + (pack_names(old) if old is not None else [])
        return _unique(_key(a) for value in dict.fromkeys(names) for a in agents(AGENTS_BY_PACK, value))

    return mapper


def agents_using_provider(agents: Indexed) -> Mapper:
    def mapper(_event: str, obj: KubeObject, _old: KubeObject | None) -> list[ObjectKey]:
        return [_key(a) for a in agents(AGENTS_BY_PROVIDER, _meta(obj))]

    return mapper


def agents_using_registry(agents: Indexed) -> Mapper:
    def mapper(_event: str, obj: KubeObject, _old: KubeObject | None) -> list[ObjectKey]:
        return [_key(a) for a in agents(AGENTS_BY_REGISTRY, _meta(obj))]

    return mapper


def agents_using_secret(agents: Indexed, providers: Indexed, registries: Indexed) -> Mapper:
    """A Secret → its owner agent, or the agents using it directly or through a Provider or ToolRegistry."""

    def mapper(event: str, obj: KubeObject, old: KubeObject | None) -> list[ObjectKey]:
        owners = owner_agent(event, obj, old)
        if owners:
            return owners
        secret = _meta(obj)
        users = [_key(a) for a in agents(AGENTS_BY_SECRET, secret)]
        for provider in providers(PROVIDERS_BY_SECRET, secret):
            users.extend(_key(a) for a in agents(AGENTS_BY_PROVIDER, _meta(provider)))
        for registry in registries(REGISTRIES_BY_SECRET, secret):
            users.extend(_key(a) for a in agents(AGENTS_BY_REGISTRY, _meta(registry)))
        return _unique(users)

    return mapper


def agents_using_config_map(agents: Indexed, packs: Indexed) -> Mapper:
    """A ConfigMap → its owner agent, or the agents of the PromptPacks it is the source or a snapshot of."""

    def mapper(event: str, obj: KubeObject, old: KubeObject | None) -> list[ObjectKey]:
        owners = owner_agent(event, obj, old)
        if owners:
            return owners
        names = [value for pack in packs(PACKS_BY_CONFIG_MAP, _meta(obj)) for value in pack_names(pack)]
        return _unique(_key(a) for value in dict.fromkeys(names) for a in agents(AGENTS_BY_PACK, value))

    return mapper


def providers_using_secret(providers: Indexed) -> Mapper:
    def mapper(_event: str, obj: KubeObject, _old: KubeObject | None) -> list[ObjectKey]:
        return [_key(p) for p in providers(PROVIDERS_BY_SECRET, _meta(obj))]

    return mapper


def packs_using_config_map(packs: Indexed) -> Mapper:
    """A source ConfigMap → the PromptPacks reading it."""

    def mapper(_event: str, obj: KubeObject, _old: KubeObject | None) -> list[ObjectKey]:
        return [_key(p) for p in packs(PACKS_BY_SOURCE, _meta(obj))]

    return mapper


def registries_using_secret(registries: Indexed) -> Mapper:
    def mapper(_event: str, obj: KubeObject, _old: KubeObject | None) -> list[ObjectKey]:
        return [_key(r) for r in registries(REGISTRIES_BY_SECRET, _meta(obj))]

    return mapper


def packs_of_canary(packs: Indexed) -> Mapper:
    """A candidate Deployment `<agent>-canary` → the PromptPack whose rollout waits on its pods."""

    def mapper(_event: str, obj: KubeObject, _old: KubeObject | None) -> list[ObjectKey]:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        logical = labels.get("omnia.altairalabs.ai/promptpack")
        if labels.get("omnia.altairalabs.ai/track") != "canary" or not logical:
            return []
        return [_key(p) for p in packs(PACKS_BY_NAME, (_meta(obj)[0], logical))]

    return mapper
