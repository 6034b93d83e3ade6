"""tools.yaml is rendered once per ToolRegistry revision and shared, byte for byte what a fresh render gives."""

import copy
from typing import Any

from manifests import agent_runtime, tool_registry  # pyright: ignore[reportMissingImports]

from omnia_operator.api.models.resources import parse_agent_runtime
from omnia_operator.resolve.source import StaticObjectSource
from omnia_operator.resolve.tools import dump_tools_yaml, render_registry, resolve_tools

NS = "default"


def registry(description: str, *, version: str | None, uid: str = "uid-r") -> dict[str, Any]:
    handler = {
        "name": "weather",
        "type": "http",
        "tool": {"name": "get_weather", "description": description, "inputSchema": {"type": "object"}},
        "httpConfig": {"endpoint": "http://weather:8080/", "method": "GET"},
    }
    obj = tool_registry(handlers=[handler])
    if version is not None:
        obj["metadata"].update(resourceVersion=version, uid=uid)
    return obj


async def tools_text(obj: dict[str, Any]) -> str | None:
    spec = parse_agent_runtime(agent_runtime("a", toolRegistryRef={"name": "tools"})).spec
    resolution = await resolve_tools(spec, NS, StaticObjectSource([obj]))
    assert resolution.check.ok, resolution.check.message
    return resolution.yaml_text


async def test_a_memoised_rendering_is_byte_identical_to_a_fresh_one() -> None:
    text = "Météo ☀️: a long description that the YAML dumper has to fold " * 3
    fresh = await tools_text(registry(text, version=None))
    first = await tools_text(registry(text, version="7"))
    again = await tools_text(registry(text, version="7"))
    assert fresh is not None
    assert first == fresh
    assert again == fresh
    assert render_registry(registry(text, version="7")).yaml_text == dump_tools_yaml(
        copy.deepcopy(render_registry(registry(text, version=None)).config)
    )


async def test_a_new_revision_of_the_registry_is_rendered_again() -> None:
    assert "version one" in (await tools_text(registry("version one", version="10")) or "")
    assert "version two" in (await tools_text(registry("version two", version="11")) or "")


async def test_a_recreated_registry_with_a_reused_version_is_not_served_the_old_rendering() -> None:
    assert "old object" in (await tools_text(registry("old object", version="20", uid="first")) or "")
    assert "new object" in (await tools_text(registry("new object", version="20", uid="second")) or "")


async def test_objects_without_a_resource_version_are_rendered_every_time() -> None:
    assert "one" in (await tools_text(registry("one", version=None)) or "")
    assert "two" in (await tools_text(registry("two", version=None)) or "")
