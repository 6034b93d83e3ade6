"""ToolRegistry reconcile against the fake API server."""

from manifests import secret, tool_registry  # pyright: ignore[reportMissingImports]

from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.reconcile.kube_source import KubeObjectSource
from omnia_operator.reconcile.mapping import registries_using_secret
from omnia_operator.reconcile.toolregistry import ToolRegistryReconciler
from omnia_operator.testing.fakekube import FakeKubeAPI

NS = "default"
MCP = {"name": "docs", "type": "mcp", "mcpConfig": {"transport": "streamable-http", "endpoint": "http://docs/mcp"}}


async def test_registry_lists_explicit_tools_and_marks_self_describing_ones_unknown(
    api: FakeKubeAPI, kube: KubeClient
) -> None:
    registry = tool_registry()
    registry["spec"]["handlers"].append(MCP)
    await kube.create(kinds.TOOL_REGISTRY, registry)
    await kube.create(kinds.SECRET, secret("weather-token", {"token": "t"}))
    reconciler = ToolRegistryReconciler(kube, KubeObjectSource(kube))
    await reconciler.reconcile(NS, "tools")
    status = (await kube.get(kinds.TOOL_REGISTRY, "tools", NS))["status"]
    assert status["phase"] == "Ready"
    assert status["discoveredToolsCount"] == 2
    by_handler = {t["handlerName"]: t for t in status["discoveredTools"]}
    assert by_handler["weather"]["name"] == "get_weather"
    assert by_handler["weather"]["status"] == "Available"
    assert by_handler["docs"]["status"] == "Unknown"
    before = api.write_count
    await reconciler.reconcile(NS, "tools")
    assert api.write_count == before


async def test_registry_with_a_missing_auth_secret_is_degraded_and_requeued(api: FakeKubeAPI, kube: KubeClient) -> None:
    await kube.create(kinds.TOOL_REGISTRY, tool_registry())
    outcome = await ToolRegistryReconciler(kube, KubeObjectSource(kube)).reconcile(NS, "tools")
    stored = await kube.get(kinds.TOOL_REGISTRY, "tools", NS)
    assert stored["status"]["phase"] == "Degraded"
    assert "weather-token" in stored["status"]["conditions"][0]["message"]
    assert outcome.requeue_after is not None
    keys = registries_using_secret(lambda ns: [stored])("ADDED", secret("weather-token", {"token": "t"}), None)
    assert [k.name for k in keys] == ["tools"]
