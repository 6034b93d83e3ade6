"""The watches between kinds with real informers against the fake API: the indexes follow every change.

An agent switching its references, a PromptPack renamed by packName and deletes all go through the API, the
informers' watches and their indexes; the mappers then answer from the indexes alone.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from manifests import agent_runtime, prompt_pack, provider, secret  # pyright: ignore[reportMissingImports]

from omnia_operator.controller.controller import ObjectKey
from omnia_operator.controller.informer import Informer
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.resources import ResourceKind
from omnia_operator.reconcile import mapping
from omnia_operator.testing.timing import eventually

NS = "default"


@dataclass
class Caches:
    agents: Informer
    packs: Informer
    providers: Informer
    registries: Informer


@pytest.fixture
async def caches(kube: KubeClient) -> AsyncIterator[Caches]:
    def informer(kind: ResourceKind) -> Informer:
        return Informer(kube, kind, namespace=NS)

    found = Caches(
        informer(kinds.AGENT_RUNTIME),
        informer(kinds.PROMPT_PACK),
        informer(kinds.PROVIDER),
        informer(kinds.TOOL_REGISTRY),
    )
    mapping.add_indexes([found.agents], mapping.AGENT_INDEXES)
    mapping.add_indexes([found.packs], mapping.PACK_INDEXES)
    mapping.add_indexes([found.providers], mapping.PROVIDER_INDEXES)
    mapping.add_indexes([found.registries], mapping.REGISTRY_INDEXES)
    everything = (found.agents, found.packs, found.providers, found.registries)
    tasks = [asyncio.create_task(each.run()) for each in everything]
    try:
        for each in everything:
            assert await each.wait_synced(10)
        yield found
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def applied(kube: KubeClient, informer: Informer, kind: ResourceKind, obj: dict[str, Any]) -> dict[str, Any]:
    """Create or replace `obj` and wait until the informer holds that revision."""
    name = obj["metadata"]["name"]
    obj = {**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k not in ("uid", "generation")}}
    current = informer.get(name, NS)
    if current is None:
        stored = await kube.create(kind, obj)
    else:
        meta = {**obj["metadata"], "resourceVersion": current["metadata"]["resourceVersion"]}
        stored = await kube.replace(kind, {**obj, "metadata": meta})
    version = stored["metadata"]["resourceVersion"]
    await eventually(lambda: (informer.get(name, NS) or {}).get("metadata", {}).get("resourceVersion") == version)
    return stored


async def deleted(kube: KubeClient, informer: Informer, kind: ResourceKind, name: str) -> None:
    await kube.delete(kind, name, namespace=NS)
    await eventually(lambda: informer.get(name, NS) is None)


def names(keys: list[ObjectKey]) -> list[str]:
    return sorted(key.name for key in keys)


async def test_an_agent_changing_its_pack_is_mapped_from_the_new_pack_only_and_not_after_its_delete(
    kube: KubeClient, caches: Caches
) -> None:
    by_pack = mapping.agents_using_pack(mapping.indexed([caches.agents]))
    await applied(kube, caches.agents, kinds.AGENT_RUNTIME, agent_runtime("a", promptPackRef={"name": "one"}))
    await applied(kube, caches.agents, kinds.AGENT_RUNTIME, agent_runtime("b", promptPackRef={"name": "one"}))
    one, two = prompt_pack("one"), prompt_pack("two")
    assert names(by_pack("MODIFIED", one, None)) == ["a", "b"]
    await applied(kube, caches.agents, kinds.AGENT_RUNTIME, agent_runtime("a", promptPackRef={"name": "two"}))
    assert names(by_pack("MODIFIED", one, None)) == ["b"]
    assert names(by_pack("MODIFIED", two, None)) == ["a"]
    await deleted(kube, caches.agents, kinds.AGENT_RUNTIME, "b")
    assert names(by_pack("DELETED", one, None)) == []


async def test_a_pack_renamed_by_pack_name_reaches_the_agents_of_both_names(kube: KubeClient, caches: Caches) -> None:
    agents = mapping.indexed([caches.agents])
    await applied(kube, caches.agents, kinds.AGENT_RUNTIME, agent_runtime("old-user", promptPackRef={"name": "v1"}))
    await applied(kube, caches.agents, kinds.AGENT_RUNTIME, agent_runtime("new-user", promptPackRef={"name": "v2"}))
    old = await applied(
        kube,
        caches.packs,
        kinds.PROMPT_PACK,
        {**prompt_pack("pp"), "spec": {**prompt_pack("pp")["spec"], "packName": "v1"}},
    )
    new = await applied(kube, caches.packs, kinds.PROMPT_PACK, {**old, "spec": {**old["spec"], "packName": "v2"}})
    assert names(mapping.agents_using_pack(agents)("MODIFIED", new, old)) == ["new-user", "old-user"]
    assert caches.packs.by_index(mapping.PACKS_BY_NAME, (NS, "v1")) == []
    assert [p["metadata"]["name"] for p in caches.packs.by_index(mapping.PACKS_BY_NAME, (NS, "v2"))] == ["pp"]


async def test_a_secret_reaches_the_agents_of_the_provider_using_it_until_the_provider_moves_or_goes(
    kube: KubeClient, caches: Caches
) -> None:
    by_secret = mapping.agents_using_secret(
        mapping.indexed([caches.agents]), mapping.indexed([caches.providers]), mapping.indexed([caches.registries])
    )
    binding = [{"name": "default", "providerRef": {"name": "openai"}}]
    await applied(kube, caches.agents, kinds.AGENT_RUNTIME, agent_runtime("user", providers=binding))
    await applied(
        kube,
        caches.agents,
        kinds.AGENT_RUNTIME,
        agent_runtime("other", providers=[{"name": "default", "providerRef": {"name": "elsewhere"}}]),
    )
    key = secret("llm-key", {"OPENAI_API_KEY": "k"})
    rotated = secret("llm-key-2", {"OPENAI_API_KEY": "k"})
    await applied(
        kube, caches.providers, kinds.PROVIDER, provider("openai", credential={"secretRef": {"name": "llm-key"}})
    )
    assert names(by_secret("MODIFIED", key, None)) == ["user"]
    await applied(
        kube, caches.providers, kinds.PROVIDER, provider("openai", credential={"secretRef": {"name": "llm-key-2"}})
    )
    assert names(by_secret("MODIFIED", key, None)) == []
    assert names(by_secret("MODIFIED", rotated, None)) == ["user"]
    await deleted(kube, caches.providers, kinds.PROVIDER, "openai")
    assert names(by_secret("MODIFIED", rotated, None)) == []
