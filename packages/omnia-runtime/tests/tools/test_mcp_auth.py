"""MCP over HTTP reads ``authTokenPath`` for every request of a session, so a rotated token needs no reconnect.

The MCP servers run in process behind ``TokenGate`` (tools/conftest.py), which refuses any request whose
credential header is not currently accepted: after a rotation the gate accepts only the new token, so a call
that succeeds proves it carried the new one.
"""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from omnia_runtime.tools.base import ToolCallContext
from omnia_runtime.tools.config import HandlerConfig, parse_tools_config
from omnia_runtime.tools.discovery import discover
from omnia_runtime.tools.errors import ToolDiscoveryError, ToolRejectedError
from omnia_runtime.tools.mcp import McpToolAdapter

CONTEXT = ToolCallContext(session_id="s")


def remote_handler(endpoint: str, transport: str, token_file: Path, **auth: Any) -> HandlerConfig:
    mcp_config = {"transport": transport, "authType": "bearer", "authTokenPath": str(token_file), **auth}
    parsed = parse_tools_config(
        {"handlers": [{"name": "remote", "type": "mcp", "endpoint": endpoint, "mcpConfig": mcp_config}]}
    )
    assert parsed.problems == []
    return parsed.handlers[0]


def app_for(module: Any, transport: str) -> Any:
    server = module.build_server()
    if transport == "sse":
        return server.sse_app(host="127.0.0.1")
    return server.streamable_http_app(host="127.0.0.1")


def path_for(transport: str) -> str:
    return "/sse" if transport == "sse" else "/mcp"


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
async def test_a_rotated_token_is_sent_by_the_next_call_without_reconnecting_when_mcp_runs_over_http(
    transport: str, asgi_server, mcp_test_server, token_gate, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("first-token\n")
    gate = token_gate(app_for(mcp_test_server, transport), accepted={"Bearer first-token"})
    async with asgi_server(gate) as url:
        adapter = McpToolAdapter(remote_handler(url + path_for(transport), transport, token))
        specs = {s.name: s for s in await adapter.start()}
        try:
            first = await adapter.call(specs["echo"], {"text": "one"}, CONTEXT)
            before_rotation = len(gate.seen)
            token.write_text("rotated-token")
            gate.accepted = {"Bearer rotated-token"}
            second = await adapter.call(specs["echo"], {"text": "two"}, CONTEXT)
        finally:
            await adapter.aclose()
    assert not first.is_error
    assert not second.is_error, second.content
    assert "two" in second.content
    assert adapter.sessions_opened == 1
    sent_before = {auth for _, _, auth in gate.seen[:before_rotation]}
    assert sent_before == {"Bearer first-token"}
    posts_after = [auth for method, _, auth in gate.seen[before_rotation:] if method == "POST"]
    assert posts_after
    assert set(posts_after) == {"Bearer rotated-token"}


async def test_a_missing_token_file_fails_the_call_naming_the_path_and_the_session_survives(
    asgi_server, mcp_test_server, token_gate, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("steady-token")
    gate = token_gate(app_for(mcp_test_server, "streamable-http"), accepted={"Bearer steady-token"})
    async with asgi_server(gate) as url:
        adapter = McpToolAdapter(remote_handler(f"{url}/mcp", "streamable-http", token))
        specs = {s.name: s for s in await adapter.start()}
        try:
            token.unlink()
            requests_before = len(gate.seen)
            with pytest.raises(ToolRejectedError, match=f"cannot read the credential file {token}"):
                await adapter.call(specs["add"], {"a": 1, "b": 2}, CONTEXT)
            assert len(gate.seen) == requests_before  # nothing was sent without the credential
            token.write_text("steady-token")
            again = await adapter.call(specs["add"], {"a": 1, "b": 2}, CONTEXT)
        finally:
            await adapter.aclose()
    assert json.loads(again.content)["result"] == 3
    assert adapter.sessions_opened == 1


async def test_a_refused_token_makes_discovery_fail_and_an_empty_file_is_named(
    asgi_server, mcp_test_server, token_gate, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("not-the-right-one")
    gate = token_gate(app_for(mcp_test_server, "streamable-http"), accepted={"Bearer the-right-one"})
    async with asgi_server(gate) as url:
        with pytest.raises(ToolDiscoveryError):
            await discover(remote_handler(f"{url}/mcp", "streamable-http", token), timeout=10)
        assert gate.seen
        assert {auth for _, _, auth in gate.seen} == {"Bearer not-the-right-one"}
        token.write_text("  \n")
        seen_before = len(gate.seen)
        with pytest.raises(ToolDiscoveryError, match="is empty"):
            await discover(remote_handler(f"{url}/mcp", "streamable-http", token), timeout=10)
        assert len(gate.seen) == seen_before


async def test_basic_credentials_and_a_custom_header_reach_an_mcp_http_server(
    asgi_server, mcp_test_server, token_gate, tmp_path: Path
) -> None:
    secret = tmp_path / "basic"
    secret.write_text("ada:s3cret")
    gate = token_gate(app_for(mcp_test_server, "streamable-http"), accepted={"Basic YWRhOnMzY3JldA=="}, header="x-auth")
    async with asgi_server(gate) as url:
        handler = remote_handler(f"{url}/mcp", "streamable-http", secret, authType="basic", authHeader="X-Auth")
        tools = await discover(handler, timeout=10)
    assert "add" in {t.name for t in tools}


async def test_over_sse_a_call_whose_credential_is_refused_fails_at_once_and_the_next_one_works(
    asgi_server, mcp_test_server, token_gate, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("first-token")
    gate = token_gate(app_for(mcp_test_server, "sse"), accepted={"Bearer first-token"})
    async with asgi_server(gate) as url:
        adapter = McpToolAdapter(remote_handler(f"{url}/sse", "sse", token))
        specs = {s.name: s for s in await adapter.start()}
        try:
            gate.accepted = {"Bearer second-token"}  # the server changed its mind; the file still holds the old one
            started = asyncio.get_running_loop().time()
            with pytest.raises(ToolRejectedError, match=rf"refused the credential from {token} \(HTTP 401\)"):
                async with asyncio.timeout(10):  # without an answer the call would wait for the router's timeout
                    await adapter.call(specs["add"], {"a": 1, "b": 2}, CONTEXT)
            refused_after = asyncio.get_running_loop().time() - started
            token.write_text("second-token")
            async with asyncio.timeout(10):  # queued until the session has reconnected (with back-off)
                again = await adapter.call(specs["add"], {"a": 1, "b": 2}, CONTEXT)
        finally:
            await adapter.aclose()
    assert refused_after < 5.0  # not a timeout of any kind
    assert json.loads(again.content)["result"] == 3
    assert adapter.sessions_opened == 2
