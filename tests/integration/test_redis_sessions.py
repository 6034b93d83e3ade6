"""Sessions in a real Redis: they survive a restart of the facade and then of the runtime, and two facade replicas
sharing one Redis continue each other's sessions (what a Service spreading clients across pods relies on)."""

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from agentstack import (
    HttpToolServer,
    Pod,
    agent_manifests,
    open_session,
    pod_containers,
    start_pod,
    turn,
)

pytestmark = pytest.mark.integration


def _redis_get(port: int, key: str) -> bytes | None:
    """GET over the Redis protocol (one bulk reply) from the test's own Redis."""
    command = f"*2\r\n$3\r\nGET\r\n${len(key)}\r\n{key}\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(command)
        data = b""
        while b"\r\n" not in data:
            data += sock.recv(65536)
        header, _, rest = data.partition(b"\r\n")
        size = int(header[1:])
        if size < 0:
            return None
        while len(rest) < size + 2:
            rest += sock.recv(65536)
        return rest[:size]


def _runtime_history(port: int, session_id: str) -> list[dict[str, Any]]:
    raw = _redis_get(port, f"omnia:runtime:session:{session_id}")
    assert raw is not None, "the runtime keeps the conversation in Redis"
    return json.loads(raw)


@pytest.fixture(scope="module")
def pod(tmp_path_factory: pytest.TempPathFactory, http_tool_server: HttpToolServer, redis_server: Any) -> Iterator[Pod]:
    base = tmp_path_factory.mktemp("redis-pod")
    manifests = agent_manifests(base / "manifests", http_tool_server.url, base / "mcp-calls.txt")
    containers = pod_containers(manifests, base / "volumes")
    running = start_pod(containers, base / "logs", agent="e2e-agent", facades=2, redis_url=redis_server.url)
    yield running
    running.stop()


async def test_session_survives_a_facade_restart_then_a_runtime_restart(pod: Pod, redis_server: Any) -> None:
    ws, session_id = await open_session(pod.ws_url(0))
    async with ws:
        first = await turn(ws, "what is the weather?", session_id=session_id)
    assert first.errors == []
    pod.facades[0].restart()
    ws, _ = await open_session(pod.ws_url(0))
    async with ws:
        second = await turn(ws, "hello after the facade restart", session_id=session_id)
    assert second.errors == []
    assert second.session_id == session_id
    pod.runtime.restart()
    ws, _ = await open_session(pod.ws_url(0))
    async with ws:
        third = await turn(ws, "hello after the runtime restart", session_id=session_id)
    assert third.errors == [], "the facade reconnects to the restarted runtime"
    history = _runtime_history(redis_server.port, session_id)
    users = [m["content"] for m in history if m.get("role") == "user"]
    assert users == ["what is the weather?", "hello after the facade restart", "hello after the runtime restart"]
    text = json.dumps(history)
    assert "sunny-from-http" in text, "the HTTP tool result went back to the model"
    assert "doc-page-about-umbrellas" in text, "the MCP tool result went back to the model"


async def test_session_started_on_one_facade_continues_on_the_other(pod: Pod, redis_server: Any) -> None:
    ws, session_id = await open_session(pod.ws_url(0))
    async with ws:
        first = await turn(ws, "hello on replica one", session_id=session_id)
    assert first.errors == []
    ws, _ = await open_session(pod.ws_url(1))
    async with ws:
        second = await turn(ws, "hello on replica two", session_id=session_id)
    assert second.errors == []
    assert second.session_id == session_id
    users = [m["content"] for m in _runtime_history(redis_server.port, session_id) if m.get("role") == "user"]
    assert users == ["hello on replica one", "hello on replica two"]


async def test_client_tool_result_reaches_the_runtime_history(pod: Pod, redis_server: Any) -> None:
    ws, session_id = await open_session(pod.ws_url(1))
    async with ws:
        result = await turn(ws, "pick a colour", session_id=session_id, tool_answer="teal-from-the-browser")
    assert [c["name"] for c in result.tool_calls] == ["pick_color"]
    assert "Nice colour choice." in result.content
    assert "teal-from-the-browser" in json.dumps(_runtime_history(redis_server.port, session_id))
