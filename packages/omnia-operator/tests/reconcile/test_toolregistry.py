"""ToolRegistry reconcile against the fake API server, with live discovery of real tool servers."""

import asyncio
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import pytest
from manifests import agent_runtime, secret, tool_registry  # pyright: ignore[reportMissingImports]
from mcp_http_servers import hung_mcp_http_server, mcp_http_server  # pyright: ignore[reportMissingImports]
from tool_servers import (  # pyright: ignore[reportMissingImports]
    MCP_SERVER,
    PYTHON,
    grpc_tool_server,
    openapi_server,
)

from omnia_operator.api.models.resources import parse_agent_runtime, parse_tool_registry
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.reconcile.kube_source import KubeObjectSource
from omnia_operator.reconcile.mapping import REGISTRIES_BY_SECRET, registries_using_secret, registry_secrets
from omnia_operator.reconcile.tool_discovery import ToolDiscovery
from omnia_operator.reconcile.toolregistry import ToolRegistryReconciler
from omnia_operator.resolve.tools import handler_entry, resolve_tools
from omnia_operator.testing.fakekube import FakeKubeAPI
from omnia_runtime.tools.config import parse_tools_config
from omnia_runtime.tools.router import ToolRouter

NS = "default"


def mcp_stdio(name: str = "local", marker: Path | None = None) -> dict[str, Any]:
    """A stdio MCP handler running the test server; it creates `marker` when anyone starts it."""
    args = [MCP_SERVER, "stdio", *([str(marker)] if marker else [])]
    return {
        "name": name,
        "type": "mcp",
        "timeout": "20s",
        "mcpConfig": {"transport": "stdio", "command": PYTHON, "args": args},
    }


def mcp_http(endpoint: str, name: str = "docs", timeout: str = "20s") -> dict[str, Any]:
    return {
        "name": name,
        "type": "mcp",
        "timeout": timeout,
        "mcpConfig": {"transport": "streamable-http", "endpoint": endpoint},
    }


async def status_of(kube: KubeClient, name: str = "tools") -> dict[str, Any]:
    return (await kube.get(kinds.TOOL_REGISTRY, name, NS))["status"]


async def test_mcp_openapi_and_grpc_servers_are_discovered_into_status(api: FakeKubeAPI, kube: KubeClient) -> None:
    async with openapi_server() as base, grpc_tool_server() as grpc_endpoint, mcp_http_server() as mcp_endpoint:
        handlers = [
            mcp_http(mcp_endpoint),
            {"name": "pets", "type": "openapi", "openAPIConfig": {"specURL": f"{base}/openapi.json"}},
            {"name": "calc", "type": "grpc", "grpcConfig": {"endpoint": grpc_endpoint}},
        ]
        await kube.create(kinds.TOOL_REGISTRY, tool_registry(handlers=handlers))
        reconciler = ToolRegistryReconciler(kube, KubeObjectSource(kube))
        outcome = await reconciler.reconcile(NS, "tools")
        status = await status_of(kube)
        assert status["phase"] == "Ready", status["conditions"]
        tools = {(t["handlerName"], t["name"]): t for t in status["discoveredTools"]}
        assert {("docs", "search_docs"), ("docs", "fetch_page"), ("calc", "add"), ("calc", "negate")} <= set(tools)
        assert {name for handler, name in tools if handler == "pets"} == {"listPets", "getPet"}
        assert "petId" in tools[("pets", "getPet")]["inputSchema"]["properties"]
        assert tools[("docs", "search_docs")]["description"] == "Search the documentation"
        assert "query" in tools[("docs", "search_docs")]["inputSchema"]["properties"]
        assert tools[("calc", "add")]["inputSchema"]["properties"]["a"] == {"type": "number"}
        assert all(t["status"] == "Available" for t in tools.values())
        assert status["discoveredToolsCount"] == len(tools) == 6
        conditions = {c["type"]: c for c in status["conditions"]}
        assert conditions["HandlersValid"]["status"] == "True"
        assert conditions["ToolsDiscovered"]["status"] == "True"
        assert outcome.requeue_after == reconciler.discovery.ttl
        before = api.write_count
        await reconciler.reconcile(NS, "tools")
        assert api.write_count == before, "an unchanged registry is not written again"


async def test_unreachable_server_marks_its_tools_unavailable_and_the_registry_degraded(kube: KubeClient) -> None:
    handlers = [
        {"name": "gone", "type": "grpc", "grpcConfig": {"endpoint": "127.0.0.1:9"}, "timeout": "2s"},
        tool_registry()["spec"]["handlers"][0],
    ]
    await kube.create(kinds.TOOL_REGISTRY, tool_registry(handlers=handlers))
    await kube.create(kinds.SECRET, secret("weather-token", {"token": "t"}))
    outcome = await ToolRegistryReconciler(kube, KubeObjectSource(kube)).reconcile(NS, "tools")
    status = await status_of(kube)
    assert status["phase"] == "Degraded"
    by_handler = {t["handlerName"]: t for t in status["discoveredTools"]}
    assert by_handler["gone"]["status"] == "Unavailable"
    assert "gone" in by_handler["gone"]["error"]
    assert by_handler["weather"]["status"] == "Available"
    assert status["discoveredToolsCount"] == 1
    assert outcome.requeue_after is not None


async def test_hung_mcp_server_costs_only_its_own_timeout_and_other_handlers_are_discovered(
    kube: KubeClient,
) -> None:
    async with hung_mcp_http_server() as hung_endpoint, mcp_http_server() as endpoint:
        handlers = [mcp_http(hung_endpoint, "stuck", timeout="1s"), mcp_http(endpoint)]
        await kube.create(kinds.TOOL_REGISTRY, tool_registry(handlers=handlers))
        reconciler = ToolRegistryReconciler(kube, KubeObjectSource(kube), ToolDiscovery(timeout=20.0))
        async with asyncio.timeout(15):
            await reconciler.reconcile(NS, "tools")
    status = await status_of(kube)
    by_handler: dict[str, list[dict[str, Any]]] = {}
    for tool in status["discoveredTools"]:
        by_handler.setdefault(tool["handlerName"], []).append(tool)
    assert [t["status"] for t in by_handler["stuck"]] == ["Unavailable"]
    assert "within 1s" in by_handler["stuck"][0]["error"]
    assert {t["name"] for t in by_handler["docs"]} == {"search_docs", "fetch_page"}


async def test_stdio_handler_is_never_started_by_the_operator_and_its_status_says_the_runtime_lists_its_tools(
    kube: KubeClient, tmp_path: Path
) -> None:
    marker = tmp_path / "started-by"
    weather = {
        "name": "weather",
        "type": "http",
        "tool": {"name": "get_weather", "description": "Weather"},
        "httpConfig": {"endpoint": "http://weather.tools:8080/v1/current"},
    }
    await kube.create(kinds.TOOL_REGISTRY, tool_registry(handlers=[mcp_stdio("local", marker), weather]))
    reconciler = ToolRegistryReconciler(kube, KubeObjectSource(kube))
    outcome = await reconciler.reconcile(NS, "tools")
    assert not marker.exists(), "the operator started the stdio command"
    status = await status_of(kube)
    assert status["phase"] == "Ready", "a stdio handler is not a fault of the registry"
    by_handler = {t["handlerName"]: t for t in status["discoveredTools"]}
    assert by_handler["local"]["status"] == "Unknown"
    assert "agent's runtime" in by_handler["local"]["description"]
    assert "does not start" in by_handler["local"]["description"]
    assert "error" not in by_handler["local"]
    assert by_handler["weather"]["status"] == "Available"
    assert status["discoveredToolsCount"] == 1, "only tools the operator knows of are counted"
    discovered = next(c for c in status["conditions"] if c["type"] == "ToolsDiscovered")
    assert discovered["status"] == "True"
    assert "local" in discovered["message"]
    assert "runtime" in discovered["message"]
    assert outcome.requeue_after is None, "nothing to re-discover"

    # the agent still gets the handler, and its runtime is what starts the command and lists the tools
    agent = parse_agent_runtime(agent_runtime(toolRegistryRef={"name": "tools"}))
    tools = await resolve_tools(agent.spec, NS, KubeObjectSource(kube))
    assert tools.config is not None
    parsed = parse_tools_config(tools.config)
    assert parsed.problems == []
    router = ToolRouter()
    await router.start(parsed, discovery_timeout=20)
    try:
        offered = {spec.name for spec in router.specs()}
    finally:
        await router.aclose()
    assert {"search_docs", "fetch_page", "get_weather"} <= offered
    assert marker.exists(), "the runtime starts the stdio server at start-up"


async def test_tool_discovery_refuses_a_stdio_handler_even_when_asked_directly(tmp_path: Path) -> None:
    marker = tmp_path / "started-by"
    registry = parse_tool_registry(tool_registry(handlers=[mcp_stdio("local", marker)]))
    handler = registry.spec.handlers[0]
    found = await ToolDiscovery().discover_all(f"{NS}/tools", {"local": (handler, handler_entry(handler), None)})
    assert found["local"].tools == []
    assert found["local"].error is not None
    assert "does not start" in found["local"].error
    assert not marker.exists()


async def test_service_selector_resolves_to_the_cluster_dns_name(kube: KubeClient) -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "weather-api", "namespace": NS, "labels": {"app": "weather"}},
        "spec": {"ports": [{"name": "http", "port": 8080}]},
    }
    await kube.create(kinds.SERVICE, service)
    handler = {
        "name": "weather",
        "type": "http",
        "tool": {"name": "get_weather", "description": "Weather"},
        "httpConfig": {"endpoint": "http://placeholder/v1/weather"},
        "selector": {"matchLabels": {"app": "weather"}},
    }
    unmatched = {**handler, "name": "other", "selector": {"matchLabels": {"app": "nothing"}}}
    await kube.create(kinds.TOOL_REGISTRY, tool_registry(handlers=[handler, unmatched]))
    await ToolRegistryReconciler(kube, KubeObjectSource(kube)).reconcile(NS, "tools")
    status = await status_of(kube)
    by_handler = {t["handlerName"]: t for t in status["discoveredTools"]}
    assert by_handler["weather"]["endpoint"] == "http://weather-api.default.svc.cluster.local:8080/v1/weather"
    assert by_handler["other"]["status"] == "Unavailable"
    assert "app=nothing" in by_handler["other"]["error"]
    agent = parse_agent_runtime(agent_runtime(toolRegistryRef={"name": "tools"}))
    tools = await resolve_tools(agent.spec, NS, KubeObjectSource(kube))
    assert tools.config is not None
    entries = {h["name"]: h for h in tools.config["handlers"]}
    assert entries["weather"]["endpoint"] == by_handler["weather"]["endpoint"], "agents get the resolved endpoint"
    assert "other" not in entries, "an unresolved Service is left out, not pointed at the placeholder"


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (
            {
                "name": "slow",
                "type": "http",
                "tool": {"name": "t", "description": "d"},
                "httpConfig": {
                    "endpoint": "http://x/",
                    "retryPolicy": {"maxAttempts": 3, "initialBackoff": "1m", "maxBackoff": "1s"},
                },
            },
            "initialBackoff must not exceed maxBackoff",
        ),
        (
            {**mcp_stdio("local"), "auth": {"type": "bearer", "secretRef": {"name": "s"}}},
            "auth is not allowed on a stdio MCP server",
        ),
    ],
)
async def test_invalid_handler_fails_the_registry_with_a_message_saying_what_to_fix(
    kube: KubeClient, handler: dict[str, Any], message: str
) -> None:
    await kube.create(kinds.TOOL_REGISTRY, tool_registry(handlers=[handler]))
    outcome = await ToolRegistryReconciler(kube, KubeObjectSource(kube)).reconcile(NS, "tools")
    status = await status_of(kube)
    assert status["phase"] == "Failed"
    valid = next(c for c in status["conditions"] if c["type"] == "HandlersValid")
    assert valid["status"] == "False"
    assert message in valid["message"]
    assert outcome.requeue_after is None


async def test_registry_with_a_missing_auth_secret_is_degraded_and_requeued(api: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(kinds.TOOL_REGISTRY, tool_registry())
    outcome = await ToolRegistryReconciler(kube, KubeObjectSource(kube)).reconcile(NS, "tools")
    stored = await kube.get(kinds.TOOL_REGISTRY, "tools", NS)
    assert stored["status"]["phase"] == "Degraded"
    assert "weather-token" in stored["status"]["discoveredTools"][0]["error"]
    assert outcome.requeue_after is not None
    by_secret = registry_secrets(stored)

    def lookup(index: str, value: Hashable) -> list[dict[str, Any]]:
        return [stored] if index == REGISTRIES_BY_SECRET and value in by_secret else []

    keys = registries_using_secret(lookup)("ADDED", secret("weather-token", {"token": "t"}), None)
    assert [k.name for k in keys] == ["tools"]
