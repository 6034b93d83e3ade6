"""The error table over a real loopback gRPC channel: Invoke's status and details, Converse's error frame."""

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from omnia_protos.runtime.v1 import runtime_pb2, runtime_pb2_grpc
from omnia_runtime.errors import ProviderUnavailableError
from omnia_runtime.providers.base import ChatRequest, Provider, ProviderEvent, TextDelta
from omnia_runtime.server.app import running_runtime
from omnia_runtime.settings import RuntimeSettings

PACK = {
    "id": "greeter",
    "name": "Greeter",
    "version": "1.0.0",
    "template_engine": {"version": "v1", "syntax": "{{variable}}"},
    "prompts": {
        "main": {
            "id": "main",
            "name": "Main",
            "version": "1.0.0",
            "system_template": "Greet {{customer}} in {{language}}.",
            "variables": [
                {"name": "customer", "type": "string", "required": True},
                {"name": "language", "type": "string", "required": False, "default": "English"},
            ],
        }
    },
}
SECRET = "sk-live-0123456789"
HIDDEN = "INTERNAL_ERROR: internal error in the runtime (see its logs)"


class RaisingProvider:
    """A provider whose stream raises ``error`` after a first delta."""

    name = "raising"
    model = "raising-1"

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        yield TextDelta("partial ")
        raise self.error

    async def aclose(self) -> None:
        return None


@contextlib.asynccontextmanager
async def runtime_stub(tmp_path: Path, provider: Provider | None = None) -> AsyncIterator[Any]:
    (tmp_path / "pack.json").write_text(json.dumps(PACK))
    settings = RuntimeSettings(
        bind_host="127.0.0.1",
        grpc_port=0,
        health_port=0,
        promptpack_path=tmp_path / "pack.json",
        tools_config_path=tmp_path / "absent.yaml",
        shutdown_grace=1,
    )
    async with (
        running_runtime(settings, provider=provider) as servers,
        grpc.aio.insecure_channel(f"127.0.0.1:{servers.grpc_port}") as channel,
    ):
        yield runtime_pb2_grpc.RuntimeServiceStub(channel)


async def invoke_error(stub: Any, input_json: str) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Invoke(runtime_pb2.InvocationRequest(input_json=input_json, invocation_id="inv-1"), timeout=30)
    return raised.value


async def converse_frames(stub: Any, content: str, metadata: dict[str, str]) -> list[runtime_pb2.ServerMessage]:
    call = stub.Converse(timeout=30)
    await call.write(runtime_pb2.ClientMessage(session_id="errs", content=content, metadata=metadata))
    frames: list[runtime_pb2.ServerMessage] = []
    for _ in range(100):
        frame = await call.read()
        if not isinstance(frame, runtime_pb2.ServerMessage):
            break
        frames.append(frame)
    return frames


async def test_invoke_without_a_required_variable_is_invalid_argument_naming_it(tmp_path: Path) -> None:
    async with runtime_stub(tmp_path) as stub:
        missing = await invoke_error(stub, json.dumps({"language": "French"}))
        answered = await stub.Invoke(runtime_pb2.InvocationRequest(input_json='{"customer": "Ada"}'), timeout=30)
    assert missing.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = missing.details() or ""
    assert details.startswith("TEMPLATE_ERROR: ")
    assert "customer" in details
    assert "language" not in details  # optional with a default: not missing
    assert json.loads(answered.output_json)  # the same call with the variable succeeds


async def test_converse_without_a_required_variable_ends_with_a_template_error_frame(tmp_path: Path) -> None:
    async with runtime_stub(tmp_path) as stub:
        frames = await converse_frames(stub, "hi", {})
        good = await converse_frames(stub, "hi", {"variables": json.dumps({"customer": "Ada"})})
    assert frames[-1].error.code == "TEMPLATE_ERROR"
    assert "customer" in frames[-1].error.message
    assert good[-1].WhichOneof("message") == "done"


async def test_invoke_with_the_provider_unavailable_is_unavailable(tmp_path: Path) -> None:
    provider = RaisingProvider(ProviderUnavailableError("raising is unavailable: connection refused; retry later"))
    async with runtime_stub(tmp_path, provider) as stub:
        error = await invoke_error(stub, '{"customer": "Ada"}')
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert error.details() == "PROVIDER_UNAVAILABLE: raising is unavailable: connection refused; retry later"


async def test_invoke_with_malformed_input_is_invalid_argument(tmp_path: Path) -> None:
    async with runtime_stub(tmp_path) as stub:
        not_json = await invoke_error(stub, "{customer: Ada")
        not_object = await invoke_error(stub, '["Ada"]')
    assert not_json.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (not_json.details() or "").startswith("INVALID_MESSAGE: input_json is not valid JSON: ")
    assert not_object.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert not_object.details() == "INVALID_MESSAGE: input_json must be a JSON object, not list"


async def test_an_unexpected_exception_is_internal_with_no_detail_for_the_client_but_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="omnia_runtime")
    provider = RaisingProvider(RuntimeError(f"adapter bug: header Authorization=Bearer {SECRET}"))
    async with runtime_stub(tmp_path, provider) as stub:
        error = await invoke_error(stub, '{"customer": "Ada"}')
        frames = await converse_frames(stub, "hi", {"variables": json.dumps({"customer": "Ada"})})
    assert error.code() == grpc.StatusCode.INTERNAL
    assert error.details() == HIDDEN
    assert [f.WhichOneof("message") for f in frames] == ["runtime_hello", "chunk", "error"]
    assert frames[-1].error.code == "INTERNAL_ERROR"
    for message in (error.details() or "", frames[-1].error.message):
        assert SECRET not in message
        assert "RuntimeError" not in message
        assert "Traceback" not in message
    # The operator still gets the details: both failures are logged with their traceback.
    failures = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert {r.getMessage() for r in failures} == {"invocation inv-1 failed", "turn of session errs failed"}
    assert all(isinstance(r.exc_info[1], RuntimeError) for r in failures if r.exc_info)
