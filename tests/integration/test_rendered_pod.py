"""The operator's rendered Deployment, run as local processes, holds a conversation that uses every tool kind.

WebSocket client → facade → gRPC → runtime → mock LLM → tool calls through a real HTTP server and a real MCP
server (stdio) → streamed answer; and a client-side tool answered over the WebSocket.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from agentstack import HttpToolServer, Pod, agent_manifests, open_session, pod_containers, start_pod, turn

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def mcp_calls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mcp") / "calls.txt"


@pytest.fixture(scope="module")
def pod(tmp_path_factory: pytest.TempPathFactory, http_tool_server: HttpToolServer, mcp_calls: Path) -> Iterator[Pod]:
    base = tmp_path_factory.mktemp("pod")
    manifests = agent_manifests(base / "manifests", http_tool_server.url, mcp_calls)
    containers = pod_containers(manifests, base / "volumes")
    running = start_pod(containers, base / "logs", agent="e2e-agent")
    yield running
    running.stop()


def test_pod_files_come_from_the_rendered_volumes(pod: Pod) -> None:
    pack_path = Path(pod.runtime.env["OMNIA_PROMPTPACK_PATH"])
    tools_path = Path(pod.runtime.env["OMNIA_TOOLS_CONFIG_PATH"])
    assert pack_path.is_file()
    assert '"id": "e2e-agent"' in pack_path.read_text()
    handlers = yaml.safe_load(tools_path.read_text())["handlers"]
    assert [h["name"] for h in handlers] == ["weather", "docs", "browser"]


async def test_answer_streams_after_http_and_mcp_tool_calls(
    pod: Pod, http_tool_server: HttpToolServer, mcp_calls: Path
) -> None:
    before = len(http_tool_server.calls)
    ws, session_id = await open_session(pod.ws_url())
    async with ws:
        result = await turn(ws, "what is the weather?", session_id=session_id)
    assert result.errors == []
    assert result.content.endswith("It is sunny in Paris and the umbrella page is ready.")
    assert len(result.chunks) >= 2, "the answer should stream in several chunks"
    assert http_tool_server.calls[before:] == [{"city": ["Paris"]}]
    assert mcp_calls.read_text().splitlines()[-1] == "umbrellas"


async def test_client_side_tool_is_answered_over_the_websocket(pod: Pod) -> None:
    ws, session_id = await open_session(pod.ws_url())
    async with ws:
        result = await turn(ws, "choose a colour", session_id=session_id, tool_answer="teal")
    assert result.errors == []
    assert [c["name"] for c in result.tool_calls] == ["pick_color"]
    assert result.tool_calls[0]["arguments"] == {"palette": "warm"}
    assert "Nice colour choice." in result.content


async def test_conversation_continues_in_the_same_session(pod: Pod) -> None:
    ws, session_id = await open_session(pod.ws_url())
    async with ws:
        first = await turn(ws, "hello", session_id=session_id)
        second = await turn(ws, "hello again", session_id=session_id)
    assert first.content == second.content == "Hello from the mock agent."
    assert second.session_id == session_id
