"""Watch mappings: a change in a referenced object reaches the agents that use it, and only those."""

from typing import Any

from omnia_operator.controller.controller import ObjectKey
from omnia_operator.reconcile import mapping


def _obj(kind: str, name: str, ns: str = "default", spec: dict[str, Any] | None = None, **meta: Any) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": name, "namespace": ns, **meta}, "spec": spec or {}}


AGENTS = [
    _obj(
        "AgentRuntime",
        "a",
        spec={
            "promptPackRef": {"name": "pack"},
            "toolRegistryRef": {"name": "tools"},
            "providers": [{"name": "default", "providerRef": {"name": "llm"}}],
        },
    ),
    _obj(
        "AgentRuntime",
        "b",
        spec={
            "promptPackRef": {"name": "other"},
            "providers": [{"name": "default", "providerRef": {"name": "llm", "namespace": "shared"}}],
        },
    ),
    _obj("AgentRuntime", "c", ns="team", spec={"promptPackRef": {"name": "pack"}}),
]


def agents(namespace: str | None) -> list[dict[str, Any]]:
    return [a for a in AGENTS if namespace is None or a["metadata"]["namespace"] == namespace]


def test_promptpack_change_maps_to_agents_of_its_pack_name_in_its_namespace() -> None:
    keys = mapping.agents_using_pack(agents)("MODIFIED", _obj("PromptPack", "pack"), None)
    assert keys == [ObjectKey("default", "a")]


def test_promptpack_pack_name_wins_over_object_name() -> None:
    keys = mapping.agents_using_pack(agents)("ADDED", _obj("PromptPack", "pp-123", spec={"packName": "other"}), None)
    assert keys == [ObjectKey("default", "b")]


def test_provider_change_maps_across_namespaces_by_explicit_ref() -> None:
    assert mapping.agents_using_provider(agents)("MODIFIED", _obj("Provider", "llm"), None) == [
        ObjectKey("default", "a")
    ]
    shared = _obj("Provider", "llm", ns="shared")
    assert mapping.agents_using_provider(agents)("MODIFIED", shared, None) == [ObjectKey("default", "b")]


def test_registry_change_maps_to_agents_referencing_it() -> None:
    assert mapping.agents_using_registry(agents)("DELETED", _obj("ToolRegistry", "tools"), None) == [
        ObjectKey("default", "a")
    ]
    assert mapping.agents_using_registry(agents)("DELETED", _obj("ToolRegistry", "nope"), None) == []


def test_owned_child_maps_to_its_controller_owner_only() -> None:
    child = _obj("Deployment", "a", ownerReferences=[{"kind": "AgentRuntime", "name": "a", "controller": True}])
    assert list(mapping.owner_agent("MODIFIED", child, None)) == [ObjectKey("default", "a")]
    stranger = _obj("Deployment", "x", ownerReferences=[{"kind": "ReplicaSet", "name": "x", "controller": True}])
    assert list(mapping.owner_agent("MODIFIED", stranger, None)) == []


def test_secret_change_maps_to_every_agent_of_its_namespace() -> None:
    keys = mapping.agents_in_namespace(agents)("MODIFIED", _obj("Secret", "s", ns="team"), None)
    assert keys == [ObjectKey("team", "c")]


def test_secret_maps_to_providers_using_it_and_configmap_to_packs_using_it() -> None:
    providers = [_obj("Provider", "p", spec={"credential": {"secretRef": {"name": "s"}}}), _obj("Provider", "q")]
    assert mapping.providers_using_secret(lambda ns: providers)("ADDED", _obj("Secret", "s"), None) == [
        ObjectKey("default", "p")
    ]
    packs = [_obj("PromptPack", "pp", spec={"source": {"configMapRef": {"name": "cm"}}})]
    assert mapping.packs_using_config_map(lambda ns: packs)("MODIFIED", _obj("ConfigMap", "cm"), None) == [
        ObjectKey("default", "pp")
    ]


def test_a_canary_deployment_requeues_the_pack_whose_rollout_waits_on_it() -> None:
    from omnia_operator.reconcile.mapping import packs_of_canary

    pack = {"metadata": {"name": "support-v2", "namespace": "default"}, "spec": {"packName": "support"}}
    other = {"metadata": {"name": "other", "namespace": "default"}, "spec": {}}
    labels = {"omnia.altairalabs.ai/track": "canary", "omnia.altairalabs.ai/promptpack": "support"}
    canary = {"metadata": {"name": "a-canary", "namespace": "default", "labels": labels}}
    stable = {
        "metadata": {"name": "a", "namespace": "default", "labels": {**labels, "omnia.altairalabs.ai/track": "stable"}}
    }
    mapper = packs_of_canary(lambda ns: [pack, other])
    assert [k.name for k in mapper("MODIFIED", canary, None)] == ["support-v2"]
    assert mapper("MODIFIED", stable, None) == []
