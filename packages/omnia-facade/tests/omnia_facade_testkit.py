"""Test kit of the facade tests (imported by conftest.py and the tests): scripted runtime, running facade, helpers.

The scripted runtime answers by the first word of the user's content:
- ``tool``: a client-side ``tool_call`` (execution CLIENT), then waits for ``client_tool_result``;
- ``crash``: one chunk, then the stream fails (UNAVAILABLE);
- ``hold``: one chunk, then waits until the test releases it (``runtime.release``);
- ``many N``: N one-character chunks;
- anything else: ``runtime_hello``, chunks "echo:" + the content, then ``done``.

``runtime_hello`` follows the first message, or comes as soon as a call opens with ``hello_at_open`` (as the
Python runtime does).
"""

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import grpc
from grpc import aio
from websockets.asyncio.client import ClientConnection, connect

from omnia_facade.app import create_app
from omnia_facade.server import FacadeServer
from omnia_facade.settings import FacadeSettings
from omnia_protos.runtime.v1 import runtime_pb2, runtime_pb2_grpc

RECV_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ScriptedRuntime(runtime_pb2_grpc.RuntimeServiceServicer):
    port: int = 0
    requests: list[runtime_pb2.ClientMessage] = field(default_factory=list)
    metadata: list[dict[str, str]] = field(default_factory=list)
    tool_results: list[runtime_pb2.ClientToolResult] = field(default_factory=list)
    known_sessions: set[str] = field(default_factory=set)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    holding: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    commands: bool = True
    calls_opened: int = 0
    open_calls: int = 0
    idle_calls: int = 0
    """Calls open without a first message yet (warm calls); ``most_idle_calls`` is the highest count seen."""
    most_idle_calls: int = 0
    request_calls: list[int] = field(default_factory=list)
    """For each request, the number of the call it came on (1 = the first call this runtime saw)."""
    fail_next_turns: int = 0
    """This many next turns fail (UNAVAILABLE) right after their message arrived, before any answer."""
    calls_changed: asyncio.Event = field(default_factory=asyncio.Event)
    hello_at_open: bool = False

    async def wait_calls(self, predicate: Callable[["ScriptedRuntime"], bool], timeout: float = RECV_TIMEOUT) -> None:
        """Wait (bounded) until ``predicate`` holds for the call counters."""
        async with asyncio.timeout(timeout):
            while not predicate(self):
                self.calls_changed.clear()
                await self.calls_changed.wait()

    def _count(self, *, opened: int = 0, idle: int = 0) -> None:
        self.calls_opened += max(opened, 0)
        self.open_calls += opened
        self.idle_calls += idle
        self.most_idle_calls = max(self.most_idle_calls, self.idle_calls)
        self.calls_changed.set()

    async def Converse(self, request_iterator: Any, context: Any) -> AsyncIterator[runtime_pb2.ServerMessage]:
        self._count(opened=1, idle=1)
        call_number = self.calls_opened
        waiting = True
        try:
            if self.hello_at_open:
                yield _hello()
            first = await anext(aiter(request_iterator), None)
            if first is None:  # the client closed an unused call
                return
            waiting = False
            self.request_calls.append(call_number)
            self._count(idle=-1)
            async with contextlib.aclosing(self._answer(first, request_iterator, context)) as frames:
                async for frame in frames:
                    yield frame
        finally:
            self._count(opened=-1, idle=-1 if waiting else 0)

    async def _answer(
        self, first: runtime_pb2.ClientMessage, request_iterator: Any, context: Any
    ) -> AsyncGenerator[runtime_pb2.ServerMessage, None]:
        self.metadata.append(dict(context.invocation_metadata()))
        self.requests.append(first)
        if self.fail_next_turns > 0:
            self.fail_next_turns -= 1
            await context.abort(grpc.StatusCode.UNAVAILABLE, "runtime went away before answering")
        self.known_sessions.add(first.session_id)
        if not self.hello_at_open:
            yield _hello()
        words = first.content.split()
        command = words[0] if words and self.commands else ""
        try:
            if command == "tool":
                yield runtime_pb2.ServerMessage(
                    tool_call=runtime_pb2.ToolCall(
                        id="call-1",
                        name="get_location",
                        arguments_json='{"precision": "city"}',
                        execution=runtime_pb2.TOOL_EXECUTION_CLIENT,
                        consent_message="Share your location?",
                        categories=["location"],
                    )
                )
                answer = await anext(aiter(request_iterator))
                self.tool_results.append(answer.client_tool_result)
                text = "rejected" if answer.client_tool_result.is_rejected else answer.client_tool_result.result_json
                yield _chunk("tool said " + text)
                yield _done("tool said " + text)
                return
            if command == "crash":
                yield _chunk("partial")
                await context.abort(grpc.StatusCode.UNAVAILABLE, "runtime crashed")
            if command == "hold":
                yield _chunk("holding")
                self.holding.set()
                await self.release.wait()
                yield _done("released")
                return
            if command == "many":
                count = int(words[1])
                for _ in range(count):
                    yield _chunk("x")
                yield _done("x" * count)
                return
            reply = "echo:" + first.content
            yield _chunk("echo:")
            yield _chunk(first.content)
            yield runtime_pb2.ServerMessage(
                done=runtime_pb2.Done(
                    final_content=reply,
                    usage=runtime_pb2.Usage(input_tokens=3, output_tokens=2, cost_usd=0.5),
                    parts=list(first.parts),
                )
            )
        except asyncio.CancelledError:
            self.cancelled.set()
            raise

    async def Invoke(self, request: Any, context: Any) -> runtime_pb2.InvocationResponse:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "not scripted")
        raise AssertionError("unreachable")

    async def Health(self, request: Any, context: Any) -> runtime_pb2.HealthResponse:
        return runtime_pb2.HealthResponse(healthy=True, status="ok", contract_version="1.3.0")

    async def HasConversation(self, request: Any, context: Any) -> runtime_pb2.HasConversationResponse:
        state = (
            runtime_pb2.RESUME_STATE_RESUMABLE
            if request.session_id in self.known_sessions
            else runtime_pb2.RESUME_STATE_NOT_FOUND
        )
        return runtime_pb2.HasConversationResponse(state=state)


def _hello() -> runtime_pb2.ServerMessage:
    return runtime_pb2.ServerMessage(runtime_hello=runtime_pb2.RuntimeHello(capabilities=["client_tools"]))


def _chunk(text: str) -> runtime_pb2.ServerMessage:
    return runtime_pb2.ServerMessage(chunk=runtime_pb2.Chunk(content=text))


def _done(text: str) -> runtime_pb2.ServerMessage:
    return runtime_pb2.ServerMessage(done=runtime_pb2.Done(final_content=text))


@asynccontextmanager
async def serving_runtime(runtime: ScriptedRuntime, port: int = 0) -> AsyncIterator[ScriptedRuntime]:
    server = aio.server()
    runtime_pb2_grpc.add_RuntimeServiceServicer_to_server(runtime, server)
    runtime.port = server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    try:
        yield runtime
    finally:
        await server.stop(grace=None)


def facade_settings(**overrides: Any) -> FacadeSettings:
    values: dict[str, Any] = {
        "agent_name": "test-agent",
        "namespace": "test-ns",
        "bind_host": "127.0.0.1",
        "facade_port": 0,
        "health_port": 0,
        "facade_allow_unauthenticated": True,
        "runtime_connect_timeout": 2.0,
        "facade_drain_timeout": 5.0,
    }
    values.update(overrides)
    return FacadeSettings(**values)


@dataclass
class RunningFacade:
    server: FacadeServer
    stop: asyncio.Event

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}/ws?agent=test-agent"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.server.health_port}"


@asynccontextmanager
async def running_facade(settings: FacadeSettings, **app_kwargs: Any) -> AsyncIterator[RunningFacade]:
    server = FacadeServer(settings, create_app(settings, **app_kwargs))
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as group:
        task = group.create_task(server.run(stop))
        async with asyncio.timeout(10):
            await asyncio.wait([group.create_task(server.ready.wait()), task], return_when=asyncio.FIRST_COMPLETED)
        try:
            yield RunningFacade(server=server, stop=stop)
        finally:
            stop.set()


FacadeFactory = Callable[..., Awaitable[RunningFacade]]


async def recv_json(ws: ClientConnection, timeout: float = RECV_TIMEOUT) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        raw = await ws.recv()
    assert isinstance(raw, str), "server frames must be text"
    frame = json.loads(raw)
    assert isinstance(frame, dict)
    datetime.fromisoformat(frame["timestamp"])
    return frame


async def recv_until(ws: ClientConnection, kind: str) -> list[dict[str, Any]]:
    """Frames up to and including the first one of ``kind``."""
    frames: list[dict[str, Any]] = []
    for _ in range(10_000):
        frame = await recv_json(ws)
        frames.append(frame)
        if frame["type"] == kind:
            return frames
    raise AssertionError(f"no {kind} frame")


@asynccontextmanager
async def ws_connect(url: str, **kwargs: Any) -> AsyncIterator[ClientConnection]:
    async with connect(url, open_timeout=10, close_timeout=5, max_size=None, **kwargs) as ws:
        yield ws
