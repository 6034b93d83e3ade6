"""MCP tool adapter (the ``mcp`` package): stdio, sse and streamable-http transports.

The MCP client's transports and ``ClientSession`` are anyio async context managers that must be entered and
left by the same task. So each handler's session is owned by one long-lived task (``_own_session``) that
holds those contexts; callers never touch the session: they put a ``_Call`` on a queue and await its future.
The owner runs each call as a child task of a task group living inside the session, so calls proceed
concurrently, and a caller that gives up (timeout) cancels its child.

Lifecycle:

- ``start()`` starts the owner task and waits for the first ``initialize`` + ``tools/list``; if that fails,
  the owner stops and ``start()`` raises ``ToolDiscoveryError`` (the router's timeout covers a server that
  never answers; ``aclose()`` then cancels the owner, which closes the transport and ends the subprocess).
- When a session breaks (the subprocess exits, the HTTP stream drops), the calls in flight fail with a
  retryable error and the owner reconnects with exponential backoff; queued calls wait for the new session
  within their own timeout.
- ``aclose()`` stops the owner task and waits (bounded by the router) for the transport to close.

Tools are filtered by ``toolFilter.allowlist``/``blocklist``. Credentials (``authTokenPath``, HTTP transports
only) are read for every HTTP request the session sends, through ``CredentialFileAuth`` on the transport's
client: a rotated token is used by the next call, without reconnecting. The file is also checked before a
session connects and before a call is queued, so a missing or empty file fails that call with a message
naming the path instead of breaking the session from inside the transport. Over SSE a POST the server refuses
stops the transport's writer without answering the call; the auth flow reports the refusal, the calls in flight
fail at once with it and the owner reconnects.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
import mcp.types
from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CONNECTION_CLOSED

from omnia_runtime.tools.auth import CredentialFileAuth, auth_headers, has_credential
from omnia_runtime.tools.base import ToolCallContext, ToolResult, ToolSpec
from omnia_runtime.tools.config import HandlerConfig, McpConfig
from omnia_runtime.tools.errors import ToolBackendError, ToolDiscoveryError, ToolRejectedError

__all__ = ["McpToolAdapter"]

logger = logging.getLogger(__name__)

MAX_QUEUED_CALLS = 256
MAX_LIST_PAGES = 50
RECONNECT_MAX_DELAY = 30.0
_BROKEN = (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream, OSError, httpx2.TransportError)


class _SessionBrokenError(Exception):
    """Raised inside the owner task to leave a session that no longer works."""


@dataclass(eq=False)  # compared and hashed by identity: a call is kept in a set while in flight
class _Call:
    name: str
    arguments: dict[str, Any]
    future: asyncio.Future[ToolResult] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


def _is_broken(error: BaseException) -> bool:
    if isinstance(error, MCPError):
        return error.code == CONNECTION_CLOSED
    return isinstance(error, _BROKEN)


def _first_leaf(error: BaseException) -> BaseException:
    """The first real error inside (possibly nested) exception groups from anyio/asyncio task groups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _to_result(result: mcp.types.CallToolResult) -> ToolResult:
    texts = [block.text for block in result.content if isinstance(block, mcp.types.TextContent)]
    others = [block.type for block in result.content if not isinstance(block, mcp.types.TextContent)]
    if result.is_error:
        return ToolResult.error("\n".join(texts) or "the MCP tool reported an error")
    if result.structured_content is not None:
        return ToolResult(content=json.dumps(result.structured_content))
    if len(texts) == 1 and not others:
        return ToolResult(content=texts[0])
    return ToolResult(content=json.dumps({"content": texts, "other_content_types": others} if others else texts))


class McpToolAdapter:
    def __init__(self, handler: HandlerConfig) -> None:
        if handler.mcp_config is None:
            raise ValueError("McpToolAdapter needs an mcp handler")
        self.handler = handler
        self._config: McpConfig = handler.mcp_config
        self._queue: asyncio.Queue[_Call] = asyncio.Queue(MAX_QUEUED_CALLS)
        self._owner: asyncio.Task[None] | None = None
        self._first_session: asyncio.Future[list[ToolSpec]] | None = None
        self._closing = False
        # Over SSE a POST the server refuses stops the transport's writer: nothing tells the call waiting for its
        # answer, so the adapter learns of it from the credential's auth flow (``_leave_when_refused``).
        on_refused = self._credential_refused if self._config.transport == "sse" else None
        self._auth = CredentialFileAuth(self._config, on_refused=on_refused) if self._uses_credential() else None
        self._refused: asyncio.Future[int] | None = None
        """While a session serves calls: resolved with the HTTP status when the server refuses the credential."""
        self.sessions_opened = 0
        """How many sessions were established (1 + reconnects); for health reporting and tests."""

    async def start(self) -> list[ToolSpec]:
        if self._owner is not None:
            raise RuntimeError("McpToolAdapter.start() called twice")
        self._first_session = asyncio.get_running_loop().create_future()
        self._owner = asyncio.create_task(self._own_session(), name=f"mcp-session:{self.handler.name}")
        return await asyncio.shield(self._first_session)

    def _uses_credential(self) -> bool:
        return self._config.transport != "stdio" and has_credential(self._config)

    async def _check_credential(self) -> None:
        """Raise ``ToolRejectedError`` (naming the path, never the value) when the credential cannot be read."""
        if self._uses_credential():
            await asyncio.to_thread(auth_headers, self._config)

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[ClientSession]:
        config = self._config
        async with contextlib.AsyncExitStack() as stack:
            if config.transport == "stdio":
                parameters = StdioServerParameters(
                    command=config.command, args=config.args, env=config.env or None, cwd=config.work_dir
                )
                read, write = await stack.enter_async_context(stdio_client(parameters))
            elif config.transport == "sse":
                await self._check_credential()
                read, write = await stack.enter_async_context(
                    sse_client(config.endpoint, timeout=self.handler.timeout, auth=self._auth)
                )
            else:
                await self._check_credential()
                client = await stack.enter_async_context(
                    httpx2.AsyncClient(auth=self._auth, timeout=httpx2.Timeout(self.handler.timeout, read=300.0))
                )
                read, write = await stack.enter_async_context(
                    streamable_http_client(config.endpoint, http_client=client)
                )
            # No read timeout on the session: the router bounds each call with the handler timeout (and
            # cancels it), and discovery has its own timeout; a slow-starting server must not fail initialize.
            session = await stack.enter_async_context(ClientSession(read, write))
            await session.initialize()
            yield session

    async def _list_tools(self, session: ClientSession) -> list[ToolSpec]:
        specs: list[ToolSpec] = []
        cursor: str | None = None
        for _ in range(MAX_LIST_PAGES):
            params = mcp.types.PaginatedRequestParams(cursor=cursor) if cursor else None
            page = await session.list_tools(params=params)
            specs.extend(
                ToolSpec(tool.name, tool.description or "", dict(tool.input_schema), handler=self.handler.name)
                for tool in page.tools
                if self._config.tool_filter.allows(tool.name)
            )
            cursor = page.next_cursor
            if not cursor:
                break
        return specs

    async def _own_session(self) -> None:
        assert self._first_session is not None
        failures = 0
        while not self._closing:
            try:
                async with self._session() as session:
                    tools = await self._list_tools(session)
                    self.sessions_opened += 1
                    failures = 0
                    if not self._first_session.done():
                        self._first_session.set_result(tools)
                    await self._serve(session)
            except Exception as e:
                reason = _first_leaf(e)
                if not self._first_session.done():
                    self._first_session.set_exception(
                        reason
                        if isinstance(reason, ToolDiscoveryError)
                        else ToolDiscoveryError(f"{type(reason).__name__}: {reason}")
                    )
                    return
                logger.warning("mcp handler %s: session lost (%s); reconnecting", self.handler.name, reason)
            failures += 1
            await asyncio.sleep(min(0.1 * 2 ** (failures - 1), RECONNECT_MAX_DELAY))

    async def _serve(self, session: ClientSession) -> None:
        """Run queued calls until the adapter closes (cancelled) or a call finds the session broken: that call
        raises ``_SessionBrokenError``, the task group cancels the other calls and raises, and the owner
        reconnects. A refused credential (SSE) ends the session the same way."""
        refused = self._refused = asyncio.get_running_loop().create_future()
        in_flight: set[_Call] = set()
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._leave_when_refused(refused, in_flight))
                while True:
                    call = await self._queue.get()
                    if call.future.done():
                        continue
                    in_flight.add(call)
                    call.future.add_done_callback(lambda _, c=call: in_flight.discard(c))
                    child = group.create_task(self._run_call(session, call))
                    call.future.add_done_callback(lambda f, c=child: c.cancel() if f.cancelled() else None)
        finally:
            self._refused = None

    def _credential_refused(self, status: int) -> None:
        if self._refused is not None and not self._refused.done():
            self._refused.set_result(status)

    async def _leave_when_refused(self, refused: asyncio.Future[int], in_flight: set[_Call]) -> None:
        """Fail the calls in flight with the refusal and leave the session (its writer has stopped)."""
        status = await refused
        path = self._config.auth_token_path
        for call in list(in_flight):
            if not call.future.done():
                call.future.set_exception(
                    ToolRejectedError(f"the MCP server refused the credential from {path} (HTTP {status})")
                )
        raise _SessionBrokenError(f"the server refused the credential (HTTP {status})")

    async def _run_call(self, session: ClientSession, call: _Call) -> None:
        try:
            result = await session.call_tool(call.name, call.arguments)
        except asyncio.CancelledError:
            if not call.future.done():
                call.future.set_exception(
                    ToolBackendError("the MCP session was closed during the call", retryable=True)
                )
            raise
        except Exception as e:
            if _is_broken(e):
                if not call.future.done():
                    call.future.set_exception(ToolBackendError(f"MCP session lost: {e}", retryable=True))
                raise _SessionBrokenError(str(e)) from e
            if not call.future.done():
                call.future.set_exception(ToolRejectedError(f"MCP error: {e}"))
            return
        if not call.future.done():
            call.future.set_result(_to_result(result))

    async def call(self, tool: ToolSpec, arguments: Mapping[str, Any], context: ToolCallContext) -> ToolResult:
        if self._owner is None or self._owner.done():
            raise ToolBackendError("the MCP session is not running", retryable=False)
        await self._check_credential()
        call = _Call(tool.name, dict(arguments))
        try:
            self._queue.put_nowait(call)
        except asyncio.QueueFull:
            raise ToolBackendError("too many MCP calls waiting", retryable=True) from None
        try:
            return await call.future
        except asyncio.CancelledError:
            call.future.cancel()
            raise

    async def aclose(self) -> None:
        self._closing = True
        owner, self._owner = self._owner, None
        if owner is not None and not owner.done():
            owner.cancel()
            try:
                await owner
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # our caller is being cancelled too: do not swallow that
        while not self._queue.empty():
            call = self._queue.get_nowait()
            if not call.future.done():
                call.future.set_exception(ToolBackendError("the MCP handler is shut down", retryable=False))
