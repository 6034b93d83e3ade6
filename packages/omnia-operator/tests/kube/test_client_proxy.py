"""The API server's proxy comes from the environment (resolved once per client, not looked up on every request)."""

import asyncio
import base64
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from omnia_operator.kube.client import KubeClient, RetryPolicy
from omnia_operator.kube.errors import KubeError
from omnia_operator.kube.resources import CONFIG_MAP
from omnia_operator.testing.fakekube import FakeKubeAPI


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ForwardProxy:
    """An HTTP forward proxy stand-in: records the absolute URLs asked for and answers an empty list."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(str(request.url))
        return web.json_response({"kind": "ConfigMapList", "apiVersion": "v1", "metadata": {}, "items": []})


@pytest.fixture
async def proxy() -> AsyncIterator[tuple[ForwardProxy, str]]:
    recorder = ForwardProxy()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield recorder, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def api() -> AsyncIterator[FakeKubeAPI]:
    async with FakeKubeAPI() as fake:
        yield fake


async def test_requests_go_through_the_proxy_the_environment_names(
    api: FakeKubeAPI, proxy: tuple[ForwardProxy, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder, proxy_url = proxy
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.setenv("http_proxy", proxy_url)
    async with KubeClient.for_url(api.url, retry=RetryPolicy(attempts=1)) as kube:
        await kube.list(CONFIG_MAP, "default")
        await kube.list(CONFIG_MAP, "default")
    assert len(recorder.seen) == 2
    assert recorder.seen[0].startswith(api.url)
    assert api.request_log == []


async def test_no_proxy_keeps_requests_direct(
    api: FakeKubeAPI, proxy: tuple[ForwardProxy, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder, proxy_url = proxy
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.setenv("http_proxy", proxy_url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    async with KubeClient.for_url(api.url, retry=RetryPolicy(attempts=1)) as kube:
        await kube.list(CONFIG_MAP, "default")
    assert recorder.seen == []
    assert [r.verb for r in api.request_log] == ["list"]


async def test_credentials_in_the_proxy_url_authorize_the_connect_tunnel(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real API server speaks HTTPS, so the proxy sees a CONNECT; the URL's credentials go on it, not in the URL."""
    heads: list[bytes] = []

    async def tunnel_refused(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(tunnel_refused, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://ops%40corp:s3cr%3At@127.0.0.1:{port}")
    monkeypatch.setenv("https_proxy", f"http://ops%40corp:s3cr%3At@127.0.0.1:{port}")
    async with server, KubeClient.for_url("https://kube.invalid:6443", retry=RetryPolicy(attempts=1)) as kube:
        with pytest.raises(KubeError):
            await kube.list(CONFIG_MAP, "default")
    assert len(heads) == 1
    request_line, *header_lines = heads[0].decode().split("\r\n")
    assert request_line.startswith("CONNECT kube.invalid:6443 ")
    expected = "Basic " + base64.b64encode(b"ops@corp:s3cr:t").decode()
    assert f"Proxy-Authorization: {expected}" in header_lines
