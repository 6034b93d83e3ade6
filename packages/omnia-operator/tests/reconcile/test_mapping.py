"""Watch mappings: a change in a referenced object reaches the agents that use it, and only those.

The caches here are `Cache` objects: a dict plus the real `Indexer` carrying the operator's index functions,
updated the way an informer updates them (before the mappers run). A test with real informers against the
fake API server is in test_mapping_informers.py.
"""

from collections.abc import Hashable
from typing import Any

import pytest

from omnia_operator.controller.controller import ObjectKey
from omnia_operator.controller.indexer import Indexer, IndexFunc
from omnia_operator.reconcile import mapping

REQUIRED: dict[str, dict[str, Any]] = {
    "AgentRuntime": {"promptPackRef": {"name": "unused"}, "facades": [{"type": "websocket"}]},
    "Provider": {"type": "openai"},
    "PromptPack": {"version": "1.0.0", "source": {"type": "configmap"}},
    "ToolRegistry": {"handlers": []},
}


def _obj(kind: str, name: str, ns: str = "default", spec: dict[str, Any] | None = None, **meta: Any) -> dict[str, Any]:
    """An object of `kind`; our kinds get the required spec fields the test does not care about."""
    body = {**REQUIRED.get(kind, {}), **(spec or {})}
    if isinstance(body.get("source"), dict):
        body["source"] = {"type": "configmap", **body["source"]}
    if isinstance(body.get("handlers"), list):
        body["handlers"] = [{"type": "http", **h} if isinstance(h, dict) else h for h in body["handlers"]]
    return {"kind": kind, "metadata": {"name": name, "namespace": ns, **meta}, "spec": body}


def _agent(name: str, ns: str = "default", **spec: Any) -> dict[str, Any]:
    return _obj("AgentRuntime", name, ns, spec)


class Cache:
    """One kind's cache with the operator's indexes, changed like an informer's."""

    def __init__(self, indexes: dict[str, IndexFunc], *objects: dict[str, Any]) -> None:
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.indexer = Indexer()
        for name, func in indexes.items():
            self.indexer.add(name, func)
        for obj in objects:
            self.put(obj)

    @staticmethod
    def _key(obj: dict[str, Any]) -> tuple[str, str]:
        return obj["metadata"]["namespace"], obj["metadata"]["name"]

    def put(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """Add or replace; returns the previous object (the `old` of the change)."""
        old = self.objects.get(self._key(obj))
        self.objects[self._key(obj)] = obj
        self.indexer.update(self._key(obj), obj)
        return old

    def delete(self, obj: dict[str, Any]) -> None:
        self.objects.pop(self._key(obj), None)
        self.indexer.remove(self._key(obj))

    def __call__(self, index: str, value: Hashable) -> list[dict[str, Any]]:
        return [self.objects[key] for key in self.indexer.keys(index, value)]


def agents_cache(*agents: dict[str, Any]) -> Cache:
    return Cache(mapping.AGENT_INDEXES, *agents)


def keys(*names: str, ns: str = "default") -> list[ObjectKey]:
    return [ObjectKey(ns, name) for name in names]


AGENTS = [
    _agent(
        "a",
        promptPackRef={"name": "pack"},
        toolRegistryRef={"name": "tools"},
        providers=[{"name": "default", "providerRef": {"name": "llm"}}],
    ),
    _agent(
        "b",
        promptPackRef={"name": "other"},
        providers=[{"name": "default", "providerRef": {"name": "llm", "namespace": "shared"}}],
    ),
    _agent("c", "team", promptPackRef={"name": "pack"}),
]


@pytest.fixture
def agents() -> Cache:
    return agents_cache(*AGENTS)


def test_promptpack_change_maps_to_agents_of_its_pack_name_in_its_namespace(agents: Cache) -> None:
    assert mapping.agents_using_pack(agents)("MODIFIED", _obj("PromptPack", "pack"), None) == keys("a")


def test_promptpack_pack_name_wins_over_object_name(agents: Cache) -> None:
    pack = _obj("PromptPack", "pp-123", spec={"packName": "other"})
    assert mapping.agents_using_pack(agents)("ADDED", pack, None) == keys("b")


def test_promptpack_renamed_by_pack_name_maps_to_agents_of_the_old_and_the_new_name(agents: Cache) -> None:
    old = _obj("PromptPack", "pp", spec={"packName": "pack"})
    new = _obj("PromptPack", "pp", spec={"packName": "other"})
    assert mapping.agents_using_pack(agents)("MODIFIED", new, old) == keys("b", "a")


def test_provider_change_maps_across_namespaces_by_explicit_ref(agents: Cache) -> None:
    mapper = mapping.agents_using_provider(agents)
    assert mapper("MODIFIED", _obj("Provider", "llm"), None) == keys("a")
    assert mapper("MODIFIED", _obj("Provider", "llm", ns="shared"), None) == keys("b")
    assert mapper("MODIFIED", _obj("Provider", "llm", ns="team"), None) == []


def test_registry_change_maps_to_agents_referencing_it(agents: Cache) -> None:
    mapper = mapping.agents_using_registry(agents)
    assert mapper("DELETED", _obj("ToolRegistry", "tools"), None) == keys("a")
    assert mapper("DELETED", _obj("ToolRegistry", "nope"), None) == []


def test_an_agent_switching_packs_is_mapped_from_its_new_pack_only_when_its_reference_changes() -> None:
    agents = agents_cache(_agent("a", promptPackRef={"name": "one"}), _agent("b", promptPackRef={"name": "one"}))
    mapper = mapping.agents_using_pack(agents)
    agents.put(_agent("a", promptPackRef={"name": "two"}))
    assert mapper("MODIFIED", _obj("PromptPack", "one"), None) == keys("b")
    assert mapper("MODIFIED", _obj("PromptPack", "two"), None) == keys("a")


def test_a_deleted_agent_is_no_longer_mapped_from_anything() -> None:
    gone = _agent("a", promptPackRef={"name": "p"}, toolRegistryRef={"name": "t"}, context={"storeRef": {"name": "s"}})
    agents = agents_cache(gone, _agent("b", promptPackRef={"name": "p"}))
    agents.delete(gone)
    empty = Cache(mapping.PROVIDER_INDEXES)
    assert mapping.agents_using_pack(agents)("MODIFIED", _obj("PromptPack", "p"), None) == keys("b")
    assert mapping.agents_using_registry(agents)("MODIFIED", _obj("ToolRegistry", "t"), None) == []
    secret = mapping.agents_using_secret(agents, empty, Cache(mapping.REGISTRY_INDEXES))
    assert secret("MODIFIED", _obj("Secret", "s"), None) == []


def test_owned_child_maps_to_its_controller_owner_only() -> None:
    child = _obj("Deployment", "a", ownerReferences=[{"kind": "AgentRuntime", "name": "a", "controller": True}])
    assert mapping.owner_agent("MODIFIED", child, None) == keys("a")
    stranger = _obj("Deployment", "x", ownerReferences=[{"kind": "ReplicaSet", "name": "x", "controller": True}])
    assert mapping.owner_agent("MODIFIED", stranger, None) == []


def test_secret_maps_to_the_agents_using_it_directly_or_through_a_provider_or_a_registry() -> None:
    agents = agents_cache(
        _agent("store", context={"type": "redis", "storeRef": {"name": "redis-url"}}),
        _agent("llm-user", providers=[{"name": "default", "providerRef": {"name": "openai"}}]),
        _agent("tool-user", toolRegistryRef={"name": "tools"}),
        _agent("bystander", promptPackRef={"name": "p"}),
    )
    providers = Cache(
        mapping.PROVIDER_INDEXES, _obj("Provider", "openai", spec={"credential": {"secretRef": {"name": "key"}}})
    )
    auth = {"type": "bearer", "secretRef": {"name": "token"}}
    registries = Cache(
        mapping.REGISTRY_INDEXES, _obj("ToolRegistry", "tools", spec={"handlers": [{"name": "h", "auth": auth}]})
    )
    mapper = mapping.agents_using_secret(agents, providers, registries)
    assert mapper("MODIFIED", _obj("Secret", "redis-url"), None) == keys("store")
    assert mapper("MODIFIED", _obj("Secret", "key"), None) == keys("llm-user")
    assert mapper("MODIFIED", _obj("Secret", "token"), None) == keys("tool-user")
    assert mapper("MODIFIED", _obj("Secret", "unrelated"), None) == []
    assert mapper("MODIFIED", _obj("Secret", "key", ns="team"), None) == []


def test_a_provider_moving_to_another_secret_is_mapped_from_the_new_secret_only() -> None:
    agents = agents_cache(_agent("a", providers=[{"name": "default", "providerRef": {"name": "openai"}}]))
    providers = Cache(
        mapping.PROVIDER_INDEXES, _obj("Provider", "openai", spec={"credential": {"secretRef": {"name": "old"}}})
    )
    providers.put(_obj("Provider", "openai", spec={"credential": {"secretRef": {"name": "new"}}}))
    mapper = mapping.agents_using_secret(agents, providers, Cache(mapping.REGISTRY_INDEXES))
    assert mapper("MODIFIED", _obj("Secret", "old"), None) == []
    assert mapper("MODIFIED", _obj("Secret", "new"), None) == keys("a")


def test_config_map_maps_to_the_agents_of_the_packs_it_is_the_source_or_a_snapshot_of() -> None:
    agents = agents_cache(_agent("a", promptPackRef={"name": "support"}), _agent("b", promptPackRef={"name": "x"}))
    pack = _obj("PromptPack", "support-v1", spec={"packName": "support", "source": {"configMapRef": {"name": "src"}}})
    packs = Cache(mapping.PACK_INDEXES, {**pack, "status": {"activeSnapshot": "snap-1", "canarySnapshot": "snap-2"}})
    mapper = mapping.agents_using_config_map(agents, packs)
    for name in ("src", "snap-1", "snap-2"):
        assert mapper("ADDED", _obj("ConfigMap", name), None) == keys("a"), name
    assert mapper("ADDED", _obj("ConfigMap", "snap-0"), None) == []
    assert mapper("ADDED", _obj("ConfigMap", "src", ns="team"), None) == []


def test_config_map_owned_by_an_agent_maps_to_that_agent_only() -> None:
    agents = agents_cache(_agent("a", promptPackRef={"name": "p"}))
    packs = Cache(mapping.PACK_INDEXES, _obj("PromptPack", "p", spec={"source": {"configMapRef": {"name": "a-tools"}}}))
    owned = _obj("ConfigMap", "a-tools", ownerReferences=[{"kind": "AgentRuntime", "name": "z", "controller": True}])
    assert mapping.agents_using_config_map(agents, packs)("MODIFIED", owned, None) == keys("z")


def test_secret_maps_to_providers_using_it_and_configmap_to_packs_reading_it() -> None:
    providers = Cache(
        mapping.PROVIDER_INDEXES,
        _obj("Provider", "p", spec={"credential": {"secretRef": {"name": "s"}}}),
        _obj("Provider", "q"),
    )
    assert mapping.providers_using_secret(providers)("ADDED", _obj("Secret", "s"), None) == keys("p")
    pack = _obj("PromptPack", "pp", spec={"source": {"configMapRef": {"name": "cm"}}})
    packs = Cache(mapping.PACK_INDEXES, {**pack, "status": {"activeSnapshot": "pp-snap"}})
    assert mapping.packs_using_config_map(packs)("MODIFIED", _obj("ConfigMap", "cm"), None) == keys("pp")
    # its own snapshots do not requeue the pack that just made them
    assert mapping.packs_using_config_map(packs)("ADDED", _obj("ConfigMap", "pp-snap"), None) == []


def test_a_canary_deployment_requeues_the_pack_whose_rollout_waits_on_it() -> None:
    packs = Cache(
        mapping.PACK_INDEXES, _obj("PromptPack", "support-v2", spec={"packName": "support"}), _obj("PromptPack", "x")
    )
    labels = {"omnia.altairalabs.ai/track": "canary", "omnia.altairalabs.ai/promptpack": "support"}
    canary = _obj("Deployment", "a-canary", labels=labels)
    stable = _obj("Deployment", "a", labels={**labels, "omnia.altairalabs.ai/track": "stable"})
    mapper = mapping.packs_of_canary(packs)
    assert mapper("MODIFIED", canary, None) == keys("support-v2")
    assert mapper("MODIFIED", stable, None) == []


def test_malformed_references_are_not_indexed_and_do_not_break_the_mappers() -> None:
    agents = agents_cache(
        _agent("bad", promptPackRef="pack", providers=["llm", {"providerRef": None}], context={"storeRef": 3}),
        _agent("good", promptPackRef={"name": "pack"}),
    )
    assert mapping.agents_using_pack(agents)("MODIFIED", _obj("PromptPack", "pack"), None) == keys("good")
    assert mapping.agents_using_provider(agents)("MODIFIED", _obj("Provider", "llm"), None) == []


def test_a_pack_that_does_not_parse_is_still_found_by_name_but_maps_no_config_map() -> None:
    broken = _obj("PromptPack", "pp", spec={"packName": "support", "version": 7, "source": {"configMapRef": "cm"}})
    assert mapping.pack_names(broken) == [("default", "support")], "its agents still learn it is invalid"
    assert mapping.pack_source(broken) == []
    assert mapping.pack_config_maps({**broken, "status": {"activeSnapshot": "snap"}}) == []
