"""The running operator against the fake API: a dependency change reaches exactly its dependents (writes are
counted per object), and a hung tool server does not hold up other reconciles."""

from collections.abc import Awaitable, Callable
from typing import Any

from manifests import agent_runtime, full_set, pack_config_map, prompt_pack, provider, secret, tool_registry  # pyright: ignore[reportMissingImports]
from mcp_http_servers import hung_mcp_http_server  # pyright: ignore[reportMissingImports]
from operator_loop import config_hash, create_all, eventually, running_operator  # pyright: ignore[reportMissingImports]
from writes import writes_to  # pyright: ignore[reportMissingImports]

from omnia_operator.controller.manager import Manager
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.testing.fakekube import FakeKubeAPI

NS = "default"


async def _idle(manager: Manager) -> bool:
    return all(len(c.queue) == 0 and c.in_flight == 0 for c in manager.controllers)


def _other_agent_objects() -> list[dict[str, Any]]:
    return [
        pack_config_map("other-pack"),
        prompt_pack("other", config_map="other-pack"),
        secret("other-key", {"OPENAI_API_KEY": "sk-other"}, labels={"omnia.altairalabs.ai/type": "credentials"}),
        provider("other-provider", credential={"secretRef": {"name": "other-key"}}),
        agent_runtime(
            "other",
            promptPackRef={"name": "other"},
            providers=[{"name": "default", "providerRef": {"name": "other-provider"}}],
        ),
    ]


async def test_each_dependency_change_rewrites_only_the_agent_that_uses_it(api: FakeKubeAPI, kube: KubeClient) -> None:
    await create_all(kube, [*full_set(toolRegistryRef={"name": "tools"}), tool_registry()])
    await kube.create(kinds.SECRET, secret("weather-token", {"token": "t"}))
    await create_all(kube, _other_agent_objects())
    async with running_operator(api) as manager:

        async def both_deployed() -> bool:
            return await config_hash(kube, "support") is not None and await config_hash(kube, "other") is not None

        await eventually(both_deployed, "both agents to deploy")
        await eventually(lambda: _idle(manager), "the operator to settle")
        other_hash = await config_hash(kube, "other")

        async def change(what: str, mutate: Callable[[], Awaitable[object]]) -> None:
            before = await config_hash(kube, "support")
            mark = len(api.request_log)
            await mutate()

            async def rolled() -> bool:
                return await config_hash(kube, "support") != before

            await eventually(rolled, f"the support agent to roll after the {what} changed")
            await eventually(lambda: _idle(manager), "the operator to settle")
            for resource, name in (
                ("agentruntimes", "other"),
                ("deployments", "other"),
                ("services", "other"),
                ("configmaps", "other-tools"),
            ):
                assert writes_to(api, resource, name, since=mark) == 0, f"{what} change wrote {resource}/{name}"
            assert writes_to(api, "deployments", "support", since=mark) >= 1
            assert await config_hash(kube, "other") == other_hash

        async def registry() -> None:
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

        tools_before = (await kube.get(kinds.CONFIG_MAP, "support-tools", NS))["data"]["tools.yaml"]
        await change("ToolRegistry", registry)
        tools_after = (await kube.get(kinds.CONFIG_MAP, "support-tools", NS))["data"]["tools.yaml"]
        assert "search" in tools_after
        assert tools_after != tools_before
        await change(
            "Provider", lambda: kube.patch(kinds.PROVIDER, "openai", {"spec": {"model": "gpt-4o"}}, namespace=NS)
        )

        async def rotate_key() -> None:
            key = await kube.get(kinds.SECRET, "openai-key", NS)
            key["data"] = secret("openai-key", {"OPENAI_API_KEY": "sk-rotated"})["data"]
            await kube.replace(kinds.SECRET, key)

        await change("credential Secret", rotate_key)

        async def new_pack() -> None:
            config_map = await kube.get(kinds.CONFIG_MAP, "support-pack", NS)
            config_map["data"]["pack.json"] = config_map["data"]["pack.json"].replace("helpful", "very helpful")
            await kube.replace(kinds.CONFIG_MAP, config_map)

        await change("PromptPack", new_pack)


async def test_hung_mcp_server_does_not_delay_other_reconciles(api: FakeKubeAPI, kube: KubeClient) -> None:
    async with hung_mcp_http_server() as hung_endpoint:
        hung = {
            "name": "stuck",
            "type": "mcp",
            "timeout": "60s",
            "mcpConfig": {"transport": "streamable-http", "endpoint": hung_endpoint},
        }
        await kube.create(kinds.TOOL_REGISTRY, tool_registry("slow", handlers=[hung]))
        await kube.create(kinds.SECRET, secret("weather-token", {"token": "t"}))
        async with running_operator(api):
            await kube.create(kinds.TOOL_REGISTRY, tool_registry("tools"))
            await create_all(kube, full_set(toolRegistryRef={"name": "tools"}))

            async def others_done() -> bool:
                registry = await kube.get(kinds.TOOL_REGISTRY, "tools", NS)
                phase = (registry.get("status") or {}).get("phase")
                return phase == "Ready" and await config_hash(kube, "support") is not None

            await eventually(others_done, "the other registry and the agent while the MCP server hangs", timeout=8.0)
            slow = await kube.get(kinds.TOOL_REGISTRY, "slow", NS)
            assert "status" not in slow or not slow["status"].get("discoveredTools"), "the hung discovery is going"
