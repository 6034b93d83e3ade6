"""Who may use the media endpoints: uploads tied to a stored session and, with API keys, to the session's owner.

Everything runs over real HTTP and WebSocket connections to a facade served by uvicorn on loopback, with a
scripted runtime over real gRPC; sessions live in the real in-memory store (one test uses a real Redis).
"""

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from omnia_facade_testkit import ScriptedRuntime, facade_settings, recv_json, recv_until, running_facade, ws_connect

from omnia_facade.sessions.base import Session
from omnia_facade.sessions.memory import InMemorySessionStore
from omnia_facade.settings import FacadeSettings

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64
KEYS = {"alice": "key-alice", "bob": "key-bob"}


def media_settings(runtime: ScriptedRuntime, root: Path, **extra: Any) -> FacadeSettings:
    return facade_settings(
        runtime_address=f"127.0.0.1:{runtime.port}",
        media_storage_type="local",
        media_storage_path=root,
        media_max_file_size=1000,
        **extra,
    )


def keyed_settings(runtime: ScriptedRuntime, tmp_path: Path) -> FacadeSettings:
    keys = tmp_path / "keys"
    keys.mkdir()
    for name, key in KEYS.items():
        (keys / name).write_text(hashlib.sha256(key.encode()).hexdigest() + "\n")
    return media_settings(runtime, tmp_path / "media", facade_allow_unauthenticated=False, facade_api_keys_path=keys)


def bearer(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[name]}"}


def upload_body(session_id: str) -> dict[str, Any]:
    return {"session_id": session_id, "filename": "a.png", "mime_type": "image/png", "size_bytes": len(PNG)}


async def test_upload_request_for_a_session_the_store_does_not_know_gets_404_session_not_found(
    runtime: ScriptedRuntime, tmp_path: Path
) -> None:
    async with (
        running_facade(media_settings(runtime, tmp_path)) as running,
        httpx.AsyncClient(base_url=running.http_url, timeout=10) as http,
    ):
        refused = await http.post("/media/request-upload", json=upload_body("never-issued"))
    assert refused.status_code == 404
    assert refused.json()["code"] == "SESSION_NOT_FOUND"
    assert "never-issued" in refused.json()["error"]
    assert not any(tmp_path.iterdir()), "nothing was prepared for an unknown session"


async def test_upload_request_for_an_expired_session_gets_404_while_a_live_one_is_accepted(
    runtime: ScriptedRuntime, tmp_path: Path
) -> None:
    now = [1000.0]
    store = InMemorySessionStore(ttl=60, clock=lambda: now[0])
    await store.create(Session(id="old", agent_name="test-agent", namespace="test-ns"))
    async with (
        running_facade(media_settings(runtime, tmp_path), session_store=store) as running,
        httpx.AsyncClient(base_url=running.http_url, timeout=10) as http,
    ):
        accepted = await http.post("/media/request-upload", json=upload_body("old"))
        now[0] += 61
        expired = await http.post("/media/request-upload", json=upload_body("old"))
    assert accepted.status_code == 201, accepted.text
    assert expired.status_code == 404
    assert expired.json()["code"] == "SESSION_NOT_FOUND"


async def test_upload_request_for_a_session_stored_in_redis_by_a_websocket_turn_is_accepted(
    runtime: ScriptedRuntime, tmp_path: Path, redis_url: str
) -> None:
    settings = media_settings(runtime, tmp_path, session_type="redis", session_store_url=redis_url)
    async with running_facade(settings) as running, ws_connect(running.ws_url) as ws:
        sid = (await recv_json(ws))["session_id"]
        async with httpx.AsyncClient(base_url=running.http_url, timeout=10) as http:
            before_turn = await http.post("/media/request-upload", json=upload_body(sid))
            await ws.send(json.dumps({"type": "message", "content": "hello"}))
            await recv_until(ws, "done")
            after_turn = await http.post("/media/request-upload", json=upload_body(sid))
    assert before_turn.status_code == 404, "a session id is not in the store before the socket has used it"
    assert after_turn.status_code == 201, after_turn.text
    assert after_turn.json()["storage_ref"].startswith(f"omnia://sessions/{sid}/media/")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-key"},
        {"Authorization": f"Basic {KEYS['alice']}"},
        {"Authorization": "Bearer"},
    ],
    ids=["no-header", "unknown-key", "not-bearer", "empty-bearer"],
)
async def test_with_api_keys_every_media_route_answers_401_without_a_valid_bearer(
    runtime: ScriptedRuntime, tmp_path: Path, headers: dict[str, str]
) -> None:
    async with (
        running_facade(keyed_settings(runtime, tmp_path)) as running,
        httpx.AsyncClient(base_url=running.http_url, timeout=10, headers=headers) as http,
    ):
        answers = {
            "request-upload": await http.post("/media/request-upload", json=upload_body("some-session")),
            "upload": await http.put("/media/upload/abc123", content=PNG, headers={"Content-Type": "image/png"}),
            "info": await http.get("/media/info/some-session/abc123"),
            "download": await http.get("/media/download/some-session/abc123"),
        }
        with_key = await http.post("/media/request-upload", json=upload_body("some-session"), headers=bearer("bob"))
    assert {route: answer.status_code for route, answer in answers.items()} == dict.fromkeys(answers, 401)
    assert all("error" in answer.json() for answer in answers.values())
    assert with_key.status_code == 404, "a valid key gets past auth to the session check"


async def test_with_api_keys_only_the_session_owner_may_upload_and_see_its_media(
    runtime: ScriptedRuntime, tmp_path: Path
) -> None:
    async with (
        running_facade(keyed_settings(runtime, tmp_path)) as running,
        ws_connect(running.ws_url, additional_headers=bearer("alice")) as ws,
        httpx.AsyncClient(base_url=running.http_url, timeout=10) as http,
    ):
        sid = (await recv_json(ws))["session_id"]
        await ws.send(json.dumps({"type": "message", "content": "hello"}))
        await recv_until(ws, "done")

        by_bob = await http.post("/media/request-upload", json=upload_body(sid), headers=bearer("bob"))
        by_alice = await http.post("/media/request-upload", json=upload_body(sid), headers=bearer("alice"))
        assert by_alice.status_code == 201, by_alice.text
        url = by_alice.json()["upload_url"]
        media_id = by_alice.json()["storage_ref"].rsplit("/", 1)[1]
        png = {"Content-Type": "image/png"}
        put_by_bob = await http.put(url, content=PNG, headers={**png, **bearer("bob")})
        put_by_alice = await http.put(url, content=PNG, headers={**png, **bearer("alice")})
        info_by_bob = await http.get(f"/media/info/{sid}/{media_id}", headers=bearer("bob"))
        download_by_bob = await http.get(f"/media/download/{sid}/{media_id}", headers=bearer("bob"))
        info_by_alice = await http.get(f"/media/info/{sid}/{media_id}", headers=bearer("alice"))
        download_by_alice = await http.get(f"/media/download/{sid}/{media_id}", headers=bearer("alice"))

    assert by_bob.status_code == 403
    assert "another caller" in by_bob.json()["error"]
    assert put_by_bob.status_code == 404, "another caller's upload id looks unknown"
    assert put_by_alice.status_code == 201, "and it was not spent by the foreign attempt"
    assert (info_by_bob.status_code, download_by_bob.status_code) == (404, 404)
    assert info_by_alice.status_code == 200
    assert "owner" not in info_by_alice.json(), "the owner identity is not shown to clients"
    assert download_by_alice.content == PNG


async def test_with_api_keys_an_upload_requested_over_the_socket_belongs_to_the_socket_caller(
    runtime: ScriptedRuntime, tmp_path: Path
) -> None:
    async with (
        running_facade(keyed_settings(runtime, tmp_path)) as running,
        ws_connect(running.ws_url, additional_headers=bearer("alice")) as ws,
        httpx.AsyncClient(base_url=running.http_url, timeout=10) as http,
    ):
        sid = (await recv_json(ws))["session_id"]
        request = {"filename": "a.png", "mime_type": "image/png", "size_bytes": len(PNG)}
        await ws.send(json.dumps({"type": "upload_request", "upload_request": request}))
        ready = (await recv_until(ws, "upload_ready"))[-1]["upload_ready"]
        media_id = ready["storage_ref"].rsplit("/", 1)[1]
        png = {"Content-Type": "image/png"}
        put_by_bob = await http.put(ready["upload_url"], content=PNG, headers={**png, **bearer("bob")})
        put_by_alice = await http.put(ready["upload_url"], content=PNG, headers={**png, **bearer("alice")})
        info_by_bob = await http.get(f"/media/info/{sid}/{media_id}", headers=bearer("bob"))

    assert put_by_bob.status_code == 404, "another caller's upload id looks unknown"
    assert put_by_alice.status_code == 201, put_by_alice.text
    assert info_by_bob.status_code == 404


async def test_a_message_with_a_storage_ref_of_another_session_is_refused_and_the_socket_stays_usable(
    runtime: ScriptedRuntime, tmp_path: Path
) -> None:
    async with (
        running_facade(media_settings(runtime, tmp_path)) as running,
        ws_connect(running.ws_url) as owner,
        ws_connect(running.ws_url) as other,
        httpx.AsyncClient(base_url=running.http_url, timeout=10) as http,
    ):
        owner_sid = (await recv_json(owner))["session_id"]
        other_sid = (await recv_json(other))["session_id"]
        await owner.send(json.dumps({"type": "message", "content": "start"}))
        await recv_until(owner, "done")
        requested = (await http.post("/media/request-upload", json=upload_body(owner_sid))).json()
        put = await http.put(requested["upload_url"], content=PNG, headers={"Content-Type": "image/png"})
        assert put.status_code == 201, put.text
        turns_before = len(runtime.requests)

        part = {"type": "image", "media": {"storage_ref": requested["storage_ref"], "mime_type": "image/png"}}
        await other.send(json.dumps({"type": "message", "parts": [{"type": "text", "text": "look"}, part]}))
        refused = (await recv_until(other, "error"))[-1]
        turns_after_refusal = len(runtime.requests)
        await other.send(json.dumps({"type": "message", "content": "still there?"}))
        done = (await recv_until(other, "done"))[-1]

    assert refused["error"]["code"] == "INVALID_MESSAGE"
    assert "another session" in refused["error"]["message"]
    assert turns_after_refusal == turns_before, "the refused message never reached the runtime"
    assert done["session_id"] == other_sid
    assert runtime.requests[-1].content == "still there?"
    assert all(p.media.storage_ref != requested["storage_ref"] for r in runtime.requests for p in r.parts)
