"""Media upload referenced in a message, and the `omnia-facade chat` terminal client, against the rendered pod."""

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from agentstack import (
    HttpToolServer,
    Pod,
    agent_manifests,
    open_session,
    pod_containers,
    receive,
    start_pod,
    turn,
)

pytestmark = pytest.mark.integration
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def pod(tmp_path_factory: pytest.TempPathFactory, http_tool_server: HttpToolServer, media_dir: Path) -> Iterator[Pod]:
    base = tmp_path_factory.mktemp("media-pod")
    manifests = agent_manifests(base / "manifests", http_tool_server.url, base / "mcp-calls.txt")
    containers = pod_containers(manifests, base / "volumes")
    running = start_pod(containers, base / "logs", agent="e2e-agent", media_dir=media_dir)
    yield running
    running.stop()


async def test_uploaded_image_is_stored_and_referenced_in_a_message(pod: Pod, media_dir: Path) -> None:
    ws, session_id = await open_session(pod.ws_url())
    async with ws:
        request = {"filename": "cat.png", "mime_type": "image/png", "size_bytes": len(PNG)}
        await ws.send(json.dumps({"type": "upload_request", "session_id": session_id, "upload_request": request}))
        ready = await receive(ws)
        assert ready["type"] == "upload_ready", ready
        info = ready["upload_ready"]
        async with httpx.AsyncClient(timeout=10) as client:
            put = await client.put(info["upload_url"], content=PNG, headers={"Content-Type": "image/png"})
        assert put.status_code in (200, 201, 204), put.text
        stored = [p for p in media_dir.rglob("*") if p.is_file() and p.read_bytes() == PNG]
        assert stored, "the upload is on disk under the media storage path"
        message = {
            "type": "message",
            "parts": [
                {"type": "text", "text": "what is in this picture?"},
                {"type": "image", "media": {"storage_ref": info["storage_ref"], "mime_type": "image/png"}},
            ],
        }
        result = await turn(ws, session_id=session_id, message=message)
    assert result.errors == []
    assert result.done is not None


async def test_bad_storage_reference_is_refused_with_an_error_frame(pod: Pod) -> None:
    ws, session_id = await open_session(pod.ws_url())
    async with ws:
        message = {
            "type": "message",
            "parts": [
                {"type": "image", "media": {"storage_ref": "omnia://sessions/x/media/nope", "mime_type": "image/png"}}
            ],
        }
        result = await turn(ws, session_id=session_id, message=message)
    assert result.done is None
    assert result.errors, "an unknown upload cannot be sent to the model"


def _chat(url: str, lines: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omnia_facade", "chat", url, *extra],
        input=lines,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_chat_client_streams_answers_and_answers_client_tools_from_stdin(pod: Pod) -> None:
    done = await asyncio.to_thread(_chat, pod.ws_url(), 'pick a colour\n"teal"\nhello\n/quit\n')
    assert done.returncode == 0, done.stderr
    assert "Hello from the mock agent." in done.stdout
    assert "pick_color" in done.stdout
    assert "Nice colour choice." in done.stdout


async def test_chat_client_resumes_a_session_by_id(pod: Pod) -> None:
    ws, session_id = await open_session(pod.ws_url())
    async with ws:
        await turn(ws, "hello", session_id=session_id)
    done = await asyncio.to_thread(_chat, pod.ws_url(), "hello again\n/quit\n", "--session", session_id)
    assert done.returncode == 0, done.stderr
    assert session_id in done.stdout + done.stderr
    assert "Hello from the mock agent." in done.stdout
