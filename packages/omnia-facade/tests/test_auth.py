import hashlib
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from omnia_facade_testkit import ScriptedRuntime, facade_settings, recv_json, recv_until, running_facade, ws_connect
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from websockets.exceptions import InvalidStatus

from omnia_facade.auth import load_api_key_hashes
from omnia_facade.errors import ConfigError
from omnia_facade.server import _Server, bind


async def refused_status(url: str, **kwargs: object) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with ws_connect(url, **kwargs):
            pass
    return refused.value.response.status_code


async def test_no_auth_configured_and_not_allowed_refuses_with_401(runtime: ScriptedRuntime) -> None:
    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}", facade_allow_unauthenticated=False)
    async with running_facade(settings) as running:
        assert await refused_status(running.ws_url) == 401


async def test_api_keys_from_a_secret_dir_admit_valid_bearers_only(runtime: ScriptedRuntime, tmp_path: Path) -> None:
    (tmp_path / "alice").write_text(hashlib.sha256(b"key-alice").hexdigest() + "\n")
    (tmp_path / "bob").write_text("# comment\nsha256:" + hashlib.sha256(b"key-bob").hexdigest())
    (tmp_path / "..data").mkdir()
    settings = facade_settings(
        runtime_address=f"127.0.0.1:{runtime.port}", facade_allow_unauthenticated=False, facade_api_keys_path=tmp_path
    )
    async with running_facade(settings) as running:
        assert await refused_status(running.ws_url) == 401
        assert await refused_status(running.ws_url, additional_headers={"Authorization": "Bearer nope"}) == 401
        async with ws_connect(running.ws_url, additional_headers={"Authorization": "Bearer key-bob"}) as ws:
            await recv_json(ws)
            await ws.send(json.dumps({"type": "message", "content": "hi"}))
            await recv_until(ws, "done")
        (tmp_path / "bob").write_text(hashlib.sha256(b"key-bob-2").hexdigest())
        assert await refused_status(running.ws_url, additional_headers={"Authorization": "Bearer key-bob"}) == 401
        async with ws_connect(running.ws_url, additional_headers={"Authorization": "Bearer key-bob-2"}) as ws:
            assert (await recv_json(ws))["type"] == "connected"
    headers = runtime.metadata[-1]
    assert headers["x-omnia-origin"] == "api-key"
    assert headers["x-omnia-user-id"].startswith("apikey:")
    assert all("key-bob" not in value for value in headers.values())


def test_key_file_with_a_plaintext_key_is_a_config_error(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("my-plain-secret\n")
    with pytest.raises(ConfigError) as error:
        load_api_key_hashes(keys)
    assert "my-plain-secret" not in str(error.value)


async def test_browser_origin_not_listed_is_refused_with_403(runtime: ScriptedRuntime) -> None:
    settings = facade_settings(runtime_address=f"127.0.0.1:{runtime.port}", allowed_origins="https://ok.example")
    async with running_facade(settings) as running:
        assert await refused_status(running.ws_url, origin="https://evil.example") == 403
        async with ws_connect(running.ws_url, origin="https://ok.example") as ws:
            assert (await recv_json(ws))["type"] == "connected"


@asynccontextmanager
async def jwks_server(public_jwk: dict[str, object]) -> AsyncIterator[str]:
    import asyncio

    import uvicorn

    async def jwks(request: object) -> JSONResponse:
        return JSONResponse({"keys": [public_jwk]})

    sock = bind("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def discovery(request: object) -> JSONResponse:
        return JSONResponse({"issuer": base, "jwks_uri": f"{base}/jwks"})

    app = Starlette(routes=[Route("/jwks", jwks), Route("/.well-known/openid-configuration", discovery)])
    server = _Server(uvicorn.Config(app, lifespan="off", log_config=None))
    async with asyncio.TaskGroup() as group:
        group.create_task(server.serve(sockets=[sock]))
        await server.listening.wait()
        try:
            yield base
        finally:
            server.should_exit = True


async def test_oidc_jwt_verified_against_the_jwks_admits_and_forwards_identity(runtime: ScriptedRuntime) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    public_jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    issuer = "https://issuer.example"
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": "omnia",
        "sub": "user-42",
        "email": "u@example.com",
        "exp": now + 300,
        "team": "blue",
        "https://example.com/roles": "admin",
    }
    good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    wrong_aud = jwt.encode({**claims, "aud": "other"}, key, algorithm="RS256", headers={"kid": "k1"})
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": "k1"})
    async with jwks_server(public_jwk) as base:
        jwks_url = f"{base}/jwks"
        settings = facade_settings(
            runtime_address=f"127.0.0.1:{runtime.port}",
            facade_allow_unauthenticated=False,
            oidc_issuer=issuer,
            oidc_audience="omnia",
            oidc_jwks_url=jwks_url,
        )
        async with running_facade(settings) as running:
            for bad in (wrong_aud, forged, "a.b.c"):
                status = await refused_status(running.ws_url, additional_headers={"Authorization": f"Bearer {bad}"})
                assert status == 401
            async with ws_connect(running.ws_url, additional_headers={"Authorization": f"Bearer {good}"}) as ws:
                await recv_json(ws)
                await ws.send(json.dumps({"type": "message", "content": "hi"}))
                await recv_until(ws, "done")
    headers = runtime.metadata[-1]
    assert (headers["x-omnia-user-id"], headers["x-omnia-user-email"], headers["x-omnia-origin"]) == (
        "user-42",
        "u@example.com",
        "oidc",
    )
    assert headers["x-omnia-claim-team"] == "blue"
    assert "x-omnia-claim-exp" not in headers
    assert not any("example.com/roles" in name for name in headers)
    assert all(good not in value for value in headers.values())


async def test_oidc_keys_are_discovered_from_the_issuer_when_no_jwks_url_is_set(runtime: ScriptedRuntime) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    public_jwk.update({"kid": "k2", "alg": "RS256"})
    async with jwks_server(public_jwk) as issuer:
        claims = {"iss": issuer, "sub": "svc", "exp": int(time.time()) + 300}
        token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k2"})
        expired = jwt.encode({**claims, "exp": int(time.time()) - 600}, key, algorithm="RS256", headers={"kid": "k2"})
        settings = facade_settings(
            runtime_address=f"127.0.0.1:{runtime.port}", facade_allow_unauthenticated=False, oidc_issuer=issuer
        )
        async with running_facade(settings) as running:
            assert (
                await refused_status(running.ws_url, additional_headers={"Authorization": f"Bearer {expired}"}) == 401
            )
            async with ws_connect(running.ws_url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
                assert (await recv_json(ws))["type"] == "connected"
