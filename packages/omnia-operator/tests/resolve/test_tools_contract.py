"""The tools.yaml the operator writes is read by the runtime's own parser without a single problem."""

import yaml
from manifests import full_set, secret, tool_registry  # pyright: ignore[reportMissingImports]

from omnia_operator.api.models.resources import parse_agent_runtime
from omnia_operator.api.validation import validate_resource
from omnia_operator.resolve.plan import resolve_agent
from omnia_operator.resolve.source import StaticObjectSource
from omnia_operator.settings import AgentImages
from omnia_runtime.tools.config import parse_tools_config

HANDLERS = [
    {
        "name": "weather",
        "type": "http",
        "tool": {"name": "get_weather", "description": "Weather", "inputSchema": {"type": "object"}},
        "httpConfig": {
            "endpoint": "http://weather:8080/",
            "method": "GET",
            "queryParams": ["city"],
            "retryPolicy": {"maxAttempts": 3},
        },
        "auth": {"type": "bearer", "secretRef": {"name": "tok", "key": "token"}},
        "timeout": "10s",
    },
    {
        "name": "calc",
        "type": "grpc",
        "tool": {"name": "calc", "description": "Calculator"},
        "grpcConfig": {"endpoint": "calc:9090", "retryPolicy": {"maxAttempts": 2}},
    },
    {"name": "files", "type": "mcp", "mcpConfig": {"transport": "stdio", "command": "mcp-files", "args": ["--ro"]}},
    {"name": "orders", "type": "openapi", "openAPIConfig": {"specURL": "http://orders/openapi.json"}},
    {
        "name": "confirm",
        "type": "client",
        "tool": {"name": "confirm", "description": "Ask the user"},
        "clientConfig": {"consentMessage": "Allow?", "categories": ["ui"]},
    },
]


async def test_generated_tools_yaml_parses_cleanly_in_the_runtime() -> None:
    objects = [
        *full_set(toolRegistryRef={"name": "tools"}),
        tool_registry(handlers=HANDLERS),
        secret("tok", {"token": "t"}),
    ]
    defaulted = [validate_resource(o)[0] if o["apiVersion"].startswith("omnia") else o for o in objects]
    for obj in defaulted:
        if obj["apiVersion"].startswith("omnia"):
            assert validate_resource(obj)[1] == []
    agent = parse_agent_runtime(next(o for o in defaulted if o["kind"] == "AgentRuntime"))
    resolution = await resolve_agent(agent, StaticObjectSource(defaulted), AgentImages())
    assert resolution.plan is not None
    assert resolution.plan.tools_yaml is not None
    config = parse_tools_config(yaml.safe_load(resolution.plan.tools_yaml))
    assert config.problems == []
    assert sorted(h.name for h in config.handlers) == sorted(h["name"] for h in HANDLERS)
