import json
from pathlib import Path

import httpx
from jsonschema import Draft202012Validator
from omnia_facade_testkit import ScriptedRuntime, facade_settings, recv_json, recv_until, running_facade, ws_connect

from omnia_facade.sessions.base import Session
from omnia_facade.sessions.memory import InMemorySessionStore
from omnia_facade.settings import FacadeSettings

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


def media_settings(runtime: ScriptedRuntime, root: Path, **extra: object) -> FacadeSettings:
    return facade_settings(
        runtime_address=f"127.0.0.1:{runtime.port}",
        media_storage_type="local",
        media_storage_path=root,
        media_max_file_size=1000,
        **extra,
    )


async def test_upload_over_http_then_info_download_and_use_in_a_message(
    runtime: ScriptedRuntime, tmp_path: Path, asyncapi_validators: dict[str, Draft202012Validator]
) -> None:
    async with running_facade(media_settings(runtime, tmp_path)) as running, ws_connect(running.ws_url) as ws:
        hello = await recv_json(ws)
        sid = hello["session_id"]
        await ws.send(json.dumps({"type": "message", "content": "start"}))
        await recv_until(ws, "done")
        async with httpx.AsyncClient(base_url=running.http_url, timeout=10) as http:
            requested = await http.post(
                "/media/request-upload",
                json={"session_id": sid, "filename": "../../cat.png", "mime_type": "image/png", "size_bytes": len(PNG)},
            )
            assert requested.status_code == 201
            body = requested.json()
            assert body["UploadID"] == body["upload_id"]
            assert body["storage_ref"].startswith(f"omnia://sessions/{sid}/media/")
            put = await http.put(body["upload_url"], content=PNG, headers={"Content-Type": "image/png"})
            assert put.status_code == 201, put.text
            again = await http.put(body["upload_url"], content=PNG, headers={"Content-Type": "image/png"})
            assert again.status_code == 404, "upload ids are single use"
            media_id = body["storage_ref"].rsplit("/", 1)[1]
            info = (await http.get(f"/media/info/{sid}/{media_id}")).json()
            assert (info["filename"], info["mime_type"], info["size_bytes"]) == ("cat.png", "image/png", len(PNG))
            download = await http.get(f"/media/download/{sid}/{media_id}")
            assert download.content == PNG
            assert download.headers["content-type"] == "image/png"
        part = {"type": "image", "media": {"storage_ref": body["storage_ref"], "mime_type": "image/png"}}
        await ws.send(json.dumps({"type": "message", "parts": [{"type": "text", "text": "look"}, part]}))
        frames = await recv_until(ws, "done")
    for frame in frames:
        asyncapi_validators[frame["type"]].validate(frame)
    sent = runtime.requests[-1]
    assert [p.type for p in sent.parts] == ["text", "image"]
    assert sent.parts[1].media.storage_ref == body["storage_ref"]
    assert not list(tmp_path.glob("**/cat.png")), "client file names never become paths"


async def test_uploads_over_the_limit_of_a_forbidden_type_or_with_path_tricks_are_refused(
    runtime: ScriptedRuntime, tmp_path: Path
) -> None:
    store = InMemorySessionStore(ttl=600)
    await store.create(Session(id="s1", agent_name="test-agent", namespace="test-ns"))
    async with (
        running_facade(media_settings(runtime, tmp_path), session_store=store) as running,
        httpx.AsyncClient(base_url=running.http_url, timeout=10) as http,
    ):
        base = {"session_id": "s1", "filename": "a.png", "mime_type": "image/png"}
        too_big = await http.post("/media/request-upload", json={**base, "size_bytes": 5000})
        assert too_big.status_code == 413
        exe = await http.post(
            "/media/request-upload", json={**base, "mime_type": "application/x-msdownload", "size_bytes": 10}
        )
        assert exe.status_code == 415
        bad_session = await http.post("/media/request-upload", json={**base, "session_id": "../etc", "size_bytes": 1})
        assert bad_session.status_code == 400
        ok = (await http.post("/media/request-upload", json={**base, "size_bytes": 10})).json()
        lying = await http.put(ok["upload_url"], content=b"x" * 2000, headers={"Content-Type": "image/png"})
        assert lying.status_code == 413
        ok = (await http.post("/media/request-upload", json={**base, "size_bytes": 10})).json()
        wrong_type = await http.put(ok["upload_url"], content=b"x", headers={"Content-Type": "text/html"})
        assert wrong_type.status_code == 415
        for path in ("/media/download/..%2F..%2Fetc/passwd", "/media/info/s1/..", "/media/download/s1/%2e%2e"):
            assert (await http.get(path)).status_code in (404, 400), path
        assert (await http.put("/media/upload/..%2Fx", content=b"x")).status_code == 404
        assert (await http.put("/media/upload/unknown-id", content=b"x")).status_code == 404
    assert not list(tmp_path.glob("s1/*")), "nothing refused was stored"
    assert not list(tmp_path.glob(".incoming/*")), "partial uploads are cleaned up"


async def test_upload_request_over_the_socket_answers_upload_ready(
    runtime: ScriptedRuntime, tmp_path: Path, asyncapi_validators: dict[str, Draft202012Validator]
) -> None:
    async with running_facade(media_settings(runtime, tmp_path)) as running, ws_connect(running.ws_url) as ws:
        await recv_json(ws)
        request = {"filename": "a.pdf", "mime_type": "application/pdf", "size_bytes": 10}
        await ws.send(json.dumps({"type": "upload_request", "upload_request": request}))
        ready = await recv_json(ws)
        await ws.send(json.dumps({"type": "upload_request", "upload_request": {**request, "size_bytes": 10**9}}))
        too_big = await recv_json(ws)
        async with httpx.AsyncClient(timeout=10) as http:
            put = await http.put(
                ready["upload_ready"]["upload_url"], content=b"%PDF-1.4", headers={"Content-Type": "application/pdf"}
            )
    asyncapi_validators["upload_ready"].validate(ready)
    assert put.status_code == 201
    assert too_big["error"]["code"] == "UPLOAD_FAILED"


async def test_media_off_by_default_gives_media_not_enabled_and_no_routes(
    facade: object, runtime: ScriptedRuntime
) -> None:
    async with running_facade(facade_settings(runtime_address=f"127.0.0.1:{runtime.port}")) as running:
        async with ws_connect(running.ws_url) as ws:
            await recv_json(ws)
            request = {"filename": "a.png", "mime_type": "image/png", "size_bytes": 1}
            await ws.send(json.dumps({"type": "upload_request", "upload_request": request}))
            error = await recv_json(ws)
            part = {"type": "image", "media": {"storage_ref": "omnia://sessions/x/media/y", "mime_type": "image/png"}}
            await ws.send(json.dumps({"type": "message", "parts": [part]}))
            error2 = (await recv_until(ws, "error"))[-1]
        async with httpx.AsyncClient(base_url=running.http_url, timeout=10) as http:
            assert (await http.post("/media/request-upload", json={})).status_code == 404
    assert error["error"]["code"] == "MEDIA_NOT_ENABLED"
    assert error2["error"]["code"] == "MEDIA_NOT_ENABLED"
