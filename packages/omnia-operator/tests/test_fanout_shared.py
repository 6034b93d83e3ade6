"""Fan-out to several dependents, with the running operator against the fake API: three agents share one
ToolRegistry, PromptPack, Provider and their Secrets, a fourth shares none of them. Each dependency change must
rewrite exactly the three (counted per object in the fake's request log), roll each one's config hash, and leave
the fourth alone."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from manifests import (  # pyright: ignore[reportMissingImports]
    agent_runtime,
    pack_config_map,
    prompt_pack,
    provider,
    secret,
    tool_registry,
)
from operator_loop import CONFIG_HASH, create_all, eventually, running_operator  # pyright: ignore[reportMissingImports]
from writes import MUTATING, written  # pyright: ignore[reportMissingImports]

from omnia_operator.controller.manager import Manager
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import NotFoundError
from omnia_operator.testing.fakekube import FakeKubeAPI

NS = "default"
SHARING = ("alpha", "beta", "gamma")
LONER = "loner"
AGENTS = (*SHARING, LONER)


def _objects() -> list[dict[str, Any]]:
    credentials = {"omnia.altairalabs.ai/type": "credentials"}
    shared = [
        pack_config_map(),
        prompt_pack(),
        secret("openai-key", {"OPENAI_API_KEY": "sk-shared"}, labels=credentials),
        provider(),
        secret("weather-token", {"token": "t-1"}),
        tool_registry(),
    ]
    sharing = [agent_runtime(name, toolRegistryRef={"name": "tools"}) for name in SHARING]
    own = [
        pack_config_map("loner-pack"),
        prompt_pack("loner", config_map="loner-pack"),
        secret("loner-key", {"OPENAI_API_KEY": "sk-loner"}, labels=credentials),
        provider("loner-provider", credential={"secretRef": {"name": "loner-key"}}),
        agent_runtime(
            LONER,
            promptPackRef={"name": "loner"},
            providers=[{"name": "default", "providerRef": {"name": "loner-provider"}}],
        ),
    ]
    return [*shared, *sharing, *own]


async def _hashes(kube: KubeClient) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in AGENTS:
        try:
            deployment = await kube.get(kinds.DEPLOYMENT, name, NS)
        except NotFoundError:
            found[name] = None
            continue
        found[name] = deployment["spec"]["template"]["metadata"]["annotations"].get(CONFIG_HASH)
    return found


async def _settled(api: FakeKubeAPI, manager: Manager) -> bool:
    """No queued or running reconcile, and no write for a moment (a watch event may still be on its way)."""
    if not all(len(c.queue) == 0 and c.in_flight == 0 for c in manager.controllers):
        return False
    before = api.write_count
    await asyncio.sleep(0.3)
    return api.write_count == before and all(len(c.queue) == 0 and c.in_flight == 0 for c in manager.controllers)


async def _rotate(kube: KubeClient, name: str, data: dict[str, str]) -> None:
    current = await kube.get(kinds.SECRET, name, NS)
    current["data"] = secret(name, data)["data"]
    await kube.replace(kinds.SECRET, current)


async def _add_search_handler(kube: KubeClient) -> None:
    handlers = tool_registry()["spec"]["handlers"]
    handlers.append(
        {
            "name": "search",
            "type": "http",
            "tool": {"name": "search", "description": "Search"},
            "httpConfig": {"endpoint": "http://search:8080/"},
        }
    )
    await kube.patch(kinds.TOOL_REGISTRY, "tools", {"spec": {"handlers": handlers}}, namespace=NS)


async def _new_pack_content(kube: KubeClient) -> None:
    config_map = await kube.get(kinds.CONFIG_MAP, "support-pack", NS)
    config_map["data"]["pack.json"] = config_map["data"]["pack.json"].replace("helpful", "very helpful")
    await kube.replace(kinds.CONFIG_MAP, config_map)


CHANGES: list[tuple[str, Callable[[KubeClient], Awaitable[object]]]] = [
    ("ToolRegistry", _add_search_handler),
    ("Provider", lambda kube: kube.patch(kinds.PROVIDER, "openai", {"spec": {"model": "gpt-4o"}}, namespace=NS)),
    ("Provider credential Secret", lambda kube: _rotate(kube, "openai-key", {"OPENAI_API_KEY": "sk-rotated"})),
    ("tool auth Secret", lambda kube: _rotate(kube, "weather-token", {"token": "t-2"})),
    ("PromptPack content", _new_pack_content),
]


async def test_a_shared_dependency_change_rewrites_exactly_its_three_dependents_and_not_the_fourth_agent(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    await create_all(kube, _objects())
    async with running_operator(api) as manager:

        async def all_deployed() -> bool:
            return None not in (await _hashes(kube)).values()

        await eventually(all_deployed, "the four agents to deploy")
        await eventually(lambda: _settled(api, manager), "the operator to settle")
        loner_hash = (await _hashes(kube))[LONER]
        for what, change in CHANGES:
            before = await _hashes(kube)
            mark = len(api.request_log)
            await change(kube)

            async def all_three_rolled(before: dict[str, str | None] = before) -> bool:
                now = await _hashes(kube)
                return all(now[name] != before[name] for name in SHARING)

            await eventually(all_three_rolled, f"the three sharing agents to roll after the {what} changed")
            await eventually(lambda: _settled(api, manager), f"the operator to settle after the {what} change")
            after = await _hashes(kube)
            assert after[LONER] == loner_hash, f"the {what} change rolled the agent that does not use it"
            deployments = written(api, "deployments", since=mark)
            assert deployments == dict.fromkeys(SHARING, 1), f"{what} change: Deployment writes {deployments}"
            tools_config_maps = {
                n: c for n, c in written(api, "configmaps", since=mark).items() if n.endswith("-tools")
            }
            expected = {f"{name}-tools": 1 for name in SHARING} if what == "ToolRegistry" else {}
            assert tools_config_maps == expected, f"{what} change: tools ConfigMap writes {tools_config_maps}"
            loner_writes = [
                f"{r.verb} {r.resource}/{r.name}"
                for r in api.request_log[mark:]
                if r.verb in MUTATING and (r.name or "").startswith(LONER)
            ]
            assert loner_writes == [], f"the {what} change wrote the agent that does not use it"
        tools = {
            name: (await kube.get(kinds.CONFIG_MAP, f"{name}-tools", NS))["data"]["tools.yaml"] for name in SHARING
        }
        assert all("search" in text for text in tools.values())
