"""The gRPC tool adapter's retry policy: transient status codes are retried, the others are not."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import grpc.aio
import pytest

from omnia_protos.tools.v1 import tools_pb2, tools_pb2_grpc
from omnia_runtime.tools.base import ToolCallContext
from omnia_runtime.tools.config import ToolsConfig, parse_tools_config
from omnia_runtime.tools.router import ToolRouter

CONTEXT = ToolCallContext(session_id="retry-session", call_id="call-1")


@dataclass
class FlakyBackend(tools_pb2_grpc.ToolServiceServicer):
    """Fails the first ``failures`` calls with ``code``, then answers; ``hang_first`` makes the first call hang."""

    code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE
    failures: int = 0
    hang_first: bool = False
    calls: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def Execute(self, request: Any, context: Any) -> Any:
        self.calls += 1
        if self.hang_first and self.calls == 1:
            await self.release.wait()
        elif self.calls <= self.failures:
            await context.abort(self.code, f"attempt {self.calls} refused")
        return tools_pb2.ToolResponse(result_json=json.dumps({"attempt": self.calls}))

    async def ListTools(self, request: Any, context: Any) -> Any:
        return tools_pb2.ListToolsResponse(tools=[tools_pb2.ToolInfo(name="lookup", description="Look it up")])


@pytest.fixture
async def flaky() -> AsyncIterator[tuple[str, FlakyBackend]]:
    backend = FlakyBackend()
    server = grpc.aio.server()
    tools_pb2_grpc.add_ToolServiceServicer_to_server(backend, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}", backend
    backend.release.set()
    await server.stop(grace=None)


async def call_once(endpoint: str, sleep: Any, *, timeout: str = "10s", **retry_policy: Any) -> Any:
    config = parse_tools_config(
        {
            "handlers": [
                {
                    "name": "lookup-service",
                    "type": "grpc",
                    "timeout": timeout,
                    "grpcConfig": {"endpoint": endpoint, "retryPolicy": retry_policy},
                }
            ]
        }
    )
    assert config.problems == []
    router = ToolRouter(sleep=sleep)
    await router.start(ToolsConfig(handlers=config.handlers), discovery_timeout=5)
    try:
        return await router.execute("lookup", {}, context=CONTEXT)
    finally:
        await router.aclose()


@pytest.mark.parametrize("code", [grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED])
async def test_transient_status_is_retried_with_backoff_until_the_call_succeeds(
    flaky: tuple[str, FlakyBackend], fake_sleep: Any, code: grpc.StatusCode
) -> None:
    endpoint, backend = flaky
    backend.code, backend.failures = code, 2
    delays, sleep = fake_sleep
    result = await call_once(endpoint, sleep, maxAttempts=3, initialBackoff="100ms", backoffMultiplier=2.0)
    assert not result.is_error, result.content
    assert json.loads(result.content) == {"attempt": 3}
    assert backend.calls == 3
    assert len(delays) == 2
    assert 0 <= delays[0] <= 0.1
    assert 0 <= delays[1] <= 0.2


@pytest.mark.parametrize("code", [grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED])
async def test_transient_status_gives_an_error_result_once_the_attempts_are_used_up(
    flaky: tuple[str, FlakyBackend], fake_sleep: Any, code: grpc.StatusCode
) -> None:
    endpoint, backend = flaky
    backend.code, backend.failures = code, 10
    delays, sleep = fake_sleep
    result = await call_once(endpoint, sleep, maxAttempts=3)
    assert result.is_error
    assert code.name in json.loads(result.content)["error"]
    assert backend.calls == 3
    assert len(delays) == 2


async def test_invalid_argument_is_not_retried(flaky: tuple[str, FlakyBackend], fake_sleep: Any) -> None:
    endpoint, backend = flaky
    backend.code, backend.failures = grpc.StatusCode.INVALID_ARGUMENT, 1
    delays, sleep = fake_sleep
    result = await call_once(endpoint, sleep, maxAttempts=5)
    assert result.is_error
    assert "INVALID_ARGUMENT" in json.loads(result.content)["error"]
    assert backend.calls == 1
    assert delays == []


async def test_only_the_policy_retryable_status_codes_are_retried(
    flaky: tuple[str, FlakyBackend], fake_sleep: Any
) -> None:
    endpoint, backend = flaky
    backend.code, backend.failures = grpc.StatusCode.RESOURCE_EXHAUSTED, 1
    delays, sleep = fake_sleep
    result = await call_once(endpoint, sleep, maxAttempts=5, retryableStatusCodes=["UNAVAILABLE"])
    assert result.is_error
    assert "RESOURCE_EXHAUSTED" in json.loads(result.content)["error"]
    assert backend.calls == 1
    assert delays == []


async def test_an_attempt_that_outlives_its_deadline_is_retried(
    flaky: tuple[str, FlakyBackend], fake_sleep: Any
) -> None:
    endpoint, backend = flaky
    backend.hang_first = True
    delays, sleep = fake_sleep
    result = await call_once(endpoint, sleep, timeout="300ms", maxAttempts=2)
    assert not result.is_error, result.content
    assert json.loads(result.content) == {"attempt": 2}
    assert len(delays) == 1
