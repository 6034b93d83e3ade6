import asyncio
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from omnia_runtime.tools.base import ToolCallContext
from omnia_runtime.tools.config import HandlerConfig, ToolsConfig, parse_tools_config
from omnia_runtime.tools.discovery import discover
from omnia_runtime.tools.errors import ToolBackendError, ToolDiscoveryError
from omnia_runtime.tools.mcp import McpToolAdapter
from omnia_runtime.tools.router import ToolRouter

SERVER_SCRIPT = Path(__file__).with_name("mcp_server.py")
CONTEXT = ToolCallContext(session_id="s")


def mcp_handler(name: str = "local", *, mode: str = "stdio", timeout: str = "10s", **mcp: Any) -> HandlerConfig:
    config: dict[str, Any] = {"transport": "stdio", "command": sys.executable, "args": [str(SERVER_SCRIPT), mode]}
    config.update(mcp)
    parsed = parse_tools_config({"handlers": [{"name": name, "type": "mcp", "timeout": timeout, "mcpConfig": config}]})
    assert parsed.problems == []
    return parsed.handlers[0]


def content(result: Any) -> Any:
    return json.loads(result.content)


async def test_stdio_server_tools_are_discovered_with_the_blocklist_applied() -> None:
    tools = await discover(mcp_handler(toolFilter={"blocklist": ["internal_debug"]}), timeout=20)
    names = sorted(t.name for t in tools)
    assert names == ["add", "crash", "echo", "environment", "explode", "hang", "whoami"]
    add = next(t for t in tools if t.name == "add")
    assert add.input_schema["required"] == ["a", "b"]
    only = await discover(mcp_handler(toolFilter={"allowlist": ["echo"]}), timeout=20)
    assert [t.name for t in only] == ["echo"]


async def test_stdio_calls_return_results_and_tool_errors() -> None:
    router = ToolRouter()
    await router.start(ToolsConfig(handlers=[mcp_handler()]), discovery_timeout=20)
    try:
        added = await router.execute("add", {"a": 2, "b": 40}, context=CONTEXT)
        echoed = await router.execute("echo", {"text": "hi there"}, context=CONTEXT)
        failed = await router.execute("explode", {}, context=CONTEXT)
        bad = await router.execute("add", {"a": "two"}, context=CONTEXT)
    finally:
        await router.aclose()
    assert not added.is_error
    assert "42" in added.content
    assert "hi there" in echoed.content
    assert failed.is_error
    assert "the tool exploded" in content(failed)["error"]
    assert bad.is_error
    assert "invalid arguments" in content(bad)["error"]


async def test_server_that_dies_mid_call_fails_the_call_and_the_session_reconnects() -> None:
    handler = mcp_handler()
    router = ToolRouter()
    await router.start(ToolsConfig(handlers=[handler]), discovery_timeout=20)
    try:
        first_pid = (await router.execute("whoami", {}, context=CONTEXT)).content
        crashed = await router.execute("crash", {}, context=CONTEXT)
        assert crashed.is_error
        assert "session" in content(crashed)["error"]
        again = await router.execute("whoami", {}, context=CONTEXT)
        assert not again.is_error
        assert again.content != first_pid
    finally:
        await router.aclose()


async def test_calls_after_close_fail_cleanly_and_the_server_process_is_gone() -> None:
    adapter = McpToolAdapter(mcp_handler())
    specs = {s.name: s for s in await adapter.start()}
    pid = json.loads((await adapter.call(specs["whoami"], {}, CONTEXT)).content)["result"]
    os.kill(pid, 0)  # the stdio server is our running child
    await adapter.aclose()
    await adapter.aclose()
    with pytest.raises(ProcessLookupError):  # exited and reaped by the transport, not left as a zombie
        os.kill(pid, 0)
    with pytest.raises(ToolBackendError, match="not running"):
        await adapter.call(specs["add"], {"a": 1, "b": 1}, CONTEXT)


async def test_server_that_never_answers_times_out_without_blocking_other_handlers(backend, make_http_handler) -> None:
    url, _ = backend
    hung = mcp_handler("hung", mode="silent")
    with pytest.raises(ToolDiscoveryError, match="hung"):
        await discover(hung, timeout=0.5)
    router = ToolRouter()
    await router.start(
        ToolsConfig(handlers=[hung, mcp_handler("good"), make_http_handler(f"{url}/echo", tool="http_echo")]),
        discovery_timeout=5,
    )
    try:
        assert {s.handler for s in router.specs()} == {"good", "echo-api"}
        assert not (await router.execute("http_echo", {"q": "x"}, context=CONTEXT)).is_error
        assert not (await router.execute("echo", {"text": "x"}, context=CONTEXT)).is_error
    finally:
        await router.aclose()


async def test_missing_command_is_a_discovery_error() -> None:
    handler = mcp_handler(command="/nonexistent/mcp-server")
    with pytest.raises(ToolDiscoveryError, match="local"):
        await discover(handler, timeout=10)


async def test_streamable_http_server_is_discovered_and_called(asgi_server) -> None:
    spec = importlib.util.spec_from_file_location("omnia_test_mcp_server", SERVER_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = module.build_server().streamable_http_app(host="127.0.0.1")
    async with asgi_server(app) as url:
        config = parse_tools_config(
            {
                "handlers": [
                    {
                        "name": "remote",
                        "type": "mcp",
                        "endpoint": f"{url}/mcp",
                        "mcpConfig": {"transport": "streamable-http", "toolFilter": {"allowlist": ["add", "echo"]}},
                    }
                ]
            }
        )
        assert config.problems == []
        tools = await discover(config.handlers[0], timeout=10)
        assert sorted(t.name for t in tools) == ["add", "echo"]
        router = ToolRouter()
        await router.start(config)
        try:
            result = await router.execute("add", {"a": 1, "b": 2}, context=CONTEXT)
        finally:
            await router.aclose()
    assert not result.is_error
    assert "3" in result.content


def load_server_module() -> Any:
    spec = importlib.util.spec_from_file_location("omnia_test_mcp_server", SERVER_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_sse_server_is_discovered_and_called(asgi_server) -> None:
    app = load_server_module().build_server().sse_app(host="127.0.0.1")
    async with asgi_server(app) as url:
        config = parse_tools_config(
            {
                "handlers": [
                    {"name": "legacy", "type": "mcp", "endpoint": f"{url}/sse", "mcpConfig": {"transport": "sse"}}
                ]
            }
        )
        router = ToolRouter()
        await router.start(config)
        try:
            assert "echo" in {s.name for s in router.specs()}
            result = await router.execute("echo", {"text": "over sse"}, context=CONTEXT)
        finally:
            await router.aclose()
    assert not result.is_error
    assert "over sse" in result.content


async def test_concurrent_calls_share_one_session() -> None:
    adapter = McpToolAdapter(mcp_handler())
    specs = {s.name: s for s in await adapter.start()}
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(adapter.call(specs["add"], {"a": i, "b": 1}, CONTEXT)) for i in range(5)]
        results = [t.result().content for t in tasks]
    finally:
        await adapter.aclose()
    assert [json.loads(r)["result"] for r in results] == [1, 2, 3, 4, 5]
    assert adapter.sessions_opened == 1


async def test_a_call_that_hangs_times_out_and_the_session_stays_usable() -> None:
    router = ToolRouter()
    await router.start(ToolsConfig(handlers=[mcp_handler(timeout="1s")]), discovery_timeout=20)
    try:
        hung = await router.execute("hang", {}, context=CONTEXT)
        after = await router.execute("add", {"a": 1, "b": 1}, context=CONTEXT)
    finally:
        await router.aclose()
    assert hung.is_error
    assert "timeout" in content(hung)["error"]
    assert not after.is_error
    assert json.loads(after.content)["result"] == 2


async def test_stdio_server_runs_in_the_work_dir_with_the_configured_env(tmp_path: Path) -> None:
    work_dir = tmp_path / "tool-home"
    work_dir.mkdir()
    handler = mcp_handler(workDir=str(work_dir), env={"OMNIA_TEST_TOOL_MODE": "sandbox", "LOG_LEVEL": "warn"})
    router = ToolRouter()
    await router.start(ToolsConfig(handlers=[handler]), discovery_timeout=20)
    try:
        mode = await router.execute("environment", {"name": "OMNIA_TEST_TOOL_MODE"}, context=CONTEXT)
        level = await router.execute("environment", {"name": "LOG_LEVEL"}, context=CONTEXT)
    finally:
        await router.aclose()
    assert not mode.is_error, mode.content
    seen = json.loads(mode.content)
    assert Path(seen["cwd"]).resolve() == work_dir.resolve()
    assert seen["value"] == "sandbox"
    assert json.loads(level.content)["value"] == "warn"


async def test_stdio_server_does_not_inherit_the_runtime_secrets_and_starts_in_its_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-runtime-only")  # the runtime's credential, not the tool's
    router = ToolRouter()
    await router.start(ToolsConfig(handlers=[mcp_handler(env={"LOG_LEVEL": "warn"})]), discovery_timeout=20)
    try:
        seen = await router.execute("environment", {"name": "OPENAI_API_KEY"}, context=CONTEXT)
        path = await router.execute("environment", {"name": "PATH"}, context=CONTEXT)
    finally:
        await router.aclose()
    assert not seen.is_error, seen.content
    answer = json.loads(seen.content)
    assert answer["value"] is None
    assert Path(answer["cwd"]).resolve() == Path.cwd().resolve()  # no workDir: the runtime's own directory
    assert json.loads(path.content)["value"]  # the safe basics (PATH, HOME...) are passed on
