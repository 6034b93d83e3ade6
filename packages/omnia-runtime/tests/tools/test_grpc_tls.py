import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest

from omnia_protos.tools.v1 import tools_pb2, tools_pb2_grpc
from omnia_runtime.tools.config import HandlerConfig, parse_tools_config
from omnia_runtime.tools.discovery import discover
from omnia_runtime.tools.errors import ToolDiscoveryError


class Backend(tools_pb2_grpc.ToolServiceServicer):
    async def Execute(self, request: Any, context: Any) -> Any:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "discovery only")

    async def ListTools(self, request: Any, context: Any) -> Any:
        return tools_pb2.ListToolsResponse(tools=[tools_pb2.ToolInfo(name="secure_add", input_schema="{}")])


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture
async def tls_endpoint(certificate: tuple[Path, Path]) -> AsyncIterator[str]:
    cert, key = certificate
    server = grpc.aio.server()
    tools_pb2_grpc.add_ToolServiceServicer_to_server(Backend(), server)
    credentials = grpc.ssl_server_credentials([(key.read_bytes(), cert.read_bytes())])
    port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop(grace=None)


def handler(endpoint: str, **tls: Any) -> HandlerConfig:
    config = parse_tools_config(
        {"handlers": [{"name": "secure", "type": "grpc", "timeout": "5s", "grpcConfig": {"endpoint": endpoint, **tls}}]}
    )
    assert config.problems == []
    return config.handlers[0]


async def test_tls_with_a_ca_file_verifies_the_server(tls_endpoint, certificate) -> None:
    cert, _ = certificate
    tools = await discover(handler(tls_endpoint, tls=True, tlsCAPath=str(cert)), timeout=10)
    assert [t.name for t in tools] == ["secure_add"]
    assert json.dumps(tools[0].input_schema) == "{}"


async def test_untrusted_certificate_fails_discovery(tls_endpoint) -> None:
    with pytest.raises(ToolDiscoveryError, match="UNAVAILABLE"):
        await discover(handler(tls_endpoint, tls=True), timeout=10)


async def test_insecure_skip_verify_trusts_the_presented_certificate(tls_endpoint) -> None:
    tools = await discover(handler(tls_endpoint, tls=True, tlsInsecureSkipVerify=True), timeout=10)
    assert [t.name for t in tools] == ["secure_add"]


async def test_missing_ca_file_is_a_clear_discovery_error(tls_endpoint, tmp_path: Path) -> None:
    with pytest.raises(ToolDiscoveryError, match="tlsCAPath"):
        await discover(handler(tls_endpoint, tls=True, tlsCAPath=str(tmp_path / "none.pem")), timeout=10)
