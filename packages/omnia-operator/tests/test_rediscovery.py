"""Periodic re-discovery, with the real operator loop against the fake API: nothing in Kubernetes changes, yet the
ToolRegistry's status follows its tool servers (and the Services behind its selectors) on the re-discovery interval.

The interval is the operator's `rediscovery_interval` setting, brought below its 10 s production floor with
`model_copy` (which skips validation) so each test waits about a second for the requeue, not ten.
"""

from typing import Any

from changing_tool_servers import (  # pyright: ignore[reportMissingImports]
    changing_grpc_server,
    changing_mcp_server,
    changing_openapi_server,
)
from manifests import full_set, secret, tool_registry  # pyright: ignore[reportMissingImports]
from operator_loop import config_hash, create_all, eventually, operator_settings, running_operator  # pyright: ignore[reportMissingImports]
from writes import writes_to  # pyright: ignore[reportMissingImports]

from omnia_operator.controller.manager import Manager
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.testing.fakekube import FakeKubeAPI

NS = "default"
INTERVAL = 1.0
# below the setting's 10 s minimum, hence model_copy (no validation)
FAST_REDISCOVERY = operator_settings().model_copy(update={"rediscovery_interval": INTERVAL})


async def _idle(manager: Manager) -> bool:
    return all(len(c.queue) == 0 and c.in_flight == 0 for c in manager.controllers)


async def _registry_status(kube: KubeClient) -> dict[str, Any]:
    return (await kube.get(kinds.TOOL_REGISTRY, "tools", NS)).get("status") or {}


async def _offered(kube: KubeClient) -> set[tuple[str, str]]:
    tools = (await _registry_status(kube)).get("discoveredTools") or []
    return {(t["handlerName"], t["name"]) for t in tools if t.get("status") == "Available"}


async def _tools_yaml(kube: KubeClient) -> str:
    return (await kube.get(kinds.CONFIG_MAP, "support-tools", NS))["data"]["tools.yaml"]


async def test_registry_status_follows_tool_servers_that_change_their_tools_on_the_rediscovery_interval(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    async with (
        changing_mcp_server("search_docs", "fetch_page") as docs,
        changing_openapi_server("listPets") as pets,
        changing_grpc_server("add", "negate") as calc,
    ):
        handlers = [
            {"name": "docs", "type": "mcp", "mcpConfig": {"transport": "streamable-http", "endpoint": docs.endpoint}},
            {"name": "pets", "type": "openapi", "openAPIConfig": {"specURL": f"{pets.base}/openapi.json"}},
            {"name": "calc", "type": "grpc", "grpcConfig": {"endpoint": calc.endpoint}},
        ]
        await kube.create(kinds.TOOL_REGISTRY, tool_registry(handlers=handlers))
        await create_all(kube, full_set(toolRegistryRef={"name": "tools"}))
        first = {("docs", "search_docs"), ("docs", "fetch_page"), ("pets", "listPets"), ("calc", "add")}
        first |= {("calc", "negate")}
        async with running_operator(api, FAST_REDISCOVERY) as manager:

            async def first_discovered() -> bool:
                return await _offered(kube) == first and await config_hash(kube, "support") is not None

            await eventually(first_discovered, "the first discovery and the agent's Deployment")
            await eventually(lambda: _idle(manager), "the operator to settle")
            discovered_at = (await _registry_status(kube))["lastDiscoveryTime"]
            tools_yaml, hash_before = await _tools_yaml(kube), await config_hash(kube, "support")

            # Unchanged servers: the operator asks them again, and writes nothing.
            mark, asked = len(api.request_log), (pets.listings, calc.listings)

            async def asked_again() -> bool:
                return pets.listings > asked[0] and calc.listings > asked[1]

            await eventually(asked_again, "a re-discovery of the unchanged servers")
            await eventually(lambda: _idle(manager), "the re-discovery to finish")
            assert writes_to(api, "toolregistries", "tools", since=mark) == 0
            assert (await _registry_status(kube))["lastDiscoveryTime"] == discovered_at

            # The servers change what they offer; no Kubernetes object changes.
            docs.offer("search_docs", "summarize_page")
            pets.offer("listPets", "adoptPet")
            calc.offer("add", "multiply")
            changed = {("docs", "search_docs"), ("docs", "summarize_page"), ("pets", "listPets")}
            changed |= {("pets", "adoptPet"), ("calc", "add"), ("calc", "multiply")}
            mark = len(api.request_log)

            async def rediscovered() -> bool:
                return await _offered(kube) == changed

            await eventually(rediscovered, "the registry status to show the servers' new tools")
            status = await _registry_status(kube)
            assert status["phase"] == "Ready"
            assert status["discoveredToolsCount"] == len(changed)
            assert status["lastDiscoveryTime"] != discovered_at
            descriptions = {t["name"]: t["description"] for t in status["discoveredTools"]}
            assert descriptions["summarize_page"] == "The summarize_page tool"
            assert writes_to(api, "toolregistries", "tools", since=mark) >= 1

            # tools.yaml lists handlers, not their tools (the agent's runtime asks each server itself when it
            # starts), so a server's new tool list neither rewrites the agent's tools ConfigMap nor rolls its pods.
            await eventually(lambda: _idle(manager), "the operator to settle after the change")
            assert await _tools_yaml(kube) == tools_yaml
            assert await config_hash(kube, "support") == hash_before
            assert writes_to(api, "configmaps", "support-tools", since=mark) == 0
            assert writes_to(api, "deployments", "support", since=mark) == 0


def _service(name: str, port: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": NS, "labels": {"app": "weather"}},
        "spec": {"selector": {"app": "weather"}, "ports": [{"name": "http", "port": port}]},
    }


async def test_a_replaced_service_behind_a_selector_reaches_the_agents_tools_config_on_the_rediscovery_interval(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    handler = {
        "name": "weather",
        "type": "http",
        "tool": {"name": "get_weather", "description": "Weather", "inputSchema": {"type": "object"}},
        "httpConfig": {"endpoint": "http://placeholder/v1/weather", "method": "GET"},
        "selector": {"matchLabels": {"app": "weather"}},
    }
    await kube.create(kinds.SERVICE, _service("weather-blue", 8080))
    await kube.create(kinds.TOOL_REGISTRY, tool_registry(handlers=[handler]))
    await create_all(kube, full_set(toolRegistryRef={"name": "tools"}))
    await kube.create(kinds.SECRET, secret("unrelated", {"k": "v"}))
    blue = "http://weather-blue.default.svc.cluster.local:8080/v1/weather"
    green = "http://weather-green.default.svc.cluster.local:9090/v1/weather"
    async with running_operator(api, FAST_REDISCOVERY) as manager:

        async def on_blue() -> bool:
            return await config_hash(kube, "support") is not None and blue in await _tools_yaml(kube)

        await eventually(on_blue, "the agent's tools.yaml to point at the blue Service")
        await eventually(lambda: _idle(manager), "the operator to settle")
        hash_before = await config_hash(kube, "support")

        # The operator watches only the Services it manages: only the re-discovery can notice this swap.
        await kube.delete(kinds.SERVICE, "weather-blue", namespace=NS)
        await kube.create(kinds.SERVICE, _service("weather-green", 9090))

        async def on_green() -> bool:
            return green in await _tools_yaml(kube) and await config_hash(kube, "support") != hash_before

        await eventually(on_green, "the agent's tools.yaml and config hash to follow the green Service")
        assert blue not in await _tools_yaml(kube)
        endpoints = {t["endpoint"] for t in (await _registry_status(kube))["discoveredTools"]}
        assert endpoints == {green}
