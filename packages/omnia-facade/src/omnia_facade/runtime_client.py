"""The gRPC client of the runtime: the only module that imports ``grpc`` or ``omnia_protos``.

One ``grpc.aio`` channel per process to ``OMNIA_RUNTIME_ADDRESS``; one bidirectional ``Converse`` stream per user
turn. The facade writes the user's ``ClientMessage``, keeps its send side open for client-tool results, and reads
frames until ``done`` or ``error``. Leaving the turn context cancels the call, so a client that disconnects or hangs
up stops the runtime's work too.

Identity travels as ``x-omnia-*`` gRPC metadata together with the W3C trace context; the client's bearer token
never does. Runtime frames are mapped to our own event types (``handlers.base``) before anyone else sees them, and
every gRPC failure becomes ``AgentUnavailableError``.

Messages are not compressed: the runtime is a loopback neighbour in the same pod, where gzip only costs CPU on
small chunk messages (the Go facade compresses; runtimes accept both).

Reconnect back-off is kept short (at most 2 s) and each turn first waits, bounded by
``OMNIA_RUNTIME_CONNECT_TIMEOUT``, for the channel to be ready: when a runtime restarts, the next user message
works as soon as it listens again instead of failing for the default 2-minute back-off.

Warm calls (``warm_calls``): when a turn ends with ``done``, the session's next ``Converse`` call is opened at
once, with the headers the next turn will send, and its first answer (the runtime's hello) is read while it
waits, so that turn only writes its message (about half a millisecond less before the first chunk). Because
headers are sent when a call opens, a warm call can only serve a turn whose headers are turn-independent: the
identity, session, workspace and consent grants must be unchanged, and there must be no trace context. With
tracing on, each turn has its own ``traceparent``, so no warm call is opened and every turn opens its own call, as
before. The request id of a warm-served turn is the fresh one chosen when the call was opened. A warm call that
fails before the runtime sent anything back (it died with a runtime restart or a reconnect) is dropped and the
turn goes out on a fresh call; no user turn fails because of a warm call. At most ``OMNIA_FACADE_WARM_CALLS``
exist per process, each for at most ``WARM_CALL_MAX_AGE`` seconds, and a session's warm call is closed with its
connection.
"""

import asyncio
import json
import logging
import re
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import grpc
from grpc import aio

from omnia_facade.errors import AgentUnavailableError, RuntimeTurnError
from omnia_facade.handlers.base import ClientToolCall, TextDelta, TurnDone, TurnEvent, TurnRequest, TurnStream
from omnia_facade.protocol import ContentPart, MediaContent, Usage
from omnia_facade.warm_calls import Headers, WarmCall, WarmCallPool
from omnia_protos.runtime.v1 import runtime_pb2, runtime_pb2_grpc

logger = logging.getLogger(__name__)

CHANNEL_OPTIONS: Sequence[tuple[str, Any]] = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
)
PROBE_TIMEOUT_S = 5.0
MAX_CLAIM_HEADERS = 32
REGISTERED_CLAIMS = frozenset({"iss", "aud", "exp", "iat", "nbf", "jti"})
METADATA_KEY = re.compile(r"^[a-z0-9_.-]{1,64}$")
REQUEST_ID_HEADER = "x-omnia-request-id"
WARM_CALL_MAX_AGE = 20.0
"""Seconds a warm call waits for its turn; the runtime gives up on a stream without a first message after 30 s."""


def turn_headers(request: TurnRequest, *, agent_name: str, namespace: str) -> Headers:
    """The ``x-omnia-*`` headers of a turn (only non-empty values), plus trace context; the request id is added
    when a call opens (``_call_metadata``)."""
    identity = request.identity
    pairs = [
        ("x-omnia-agent-name", agent_name),
        ("x-omnia-namespace", namespace),
        ("x-omnia-session-id", request.session_id),
        ("x-omnia-user-id", identity.subject),
        ("x-omnia-user-email", identity.email),
        ("x-omnia-origin", identity.origin),
        ("x-omnia-workspace", request.workspace),
        ("x-omnia-consent-grants", ",".join(request.consent_grants)),
    ]
    claims = [(name.lower(), value) for name, value in identity.claims.items() if name.lower() not in REGISTERED_CLAIMS]
    pairs.extend((f"x-omnia-claim-{name}", value) for name, value in claims[:MAX_CLAIM_HEADERS] if _key_safe(name))
    pairs.extend((name.lower(), value) for name, value in request.trace_headers.items())
    return tuple((name, value) for name, value in pairs if value and _header_safe(value))


def _call_metadata(headers: Headers, request_id: str) -> list[tuple[str, str]]:
    """A call's metadata: the turn's headers and the call's request id (a fresh one unless given)."""
    return [*headers, (REQUEST_ID_HEADER, request_id or str(uuid.uuid4()))]


def _key_safe(name: str) -> bool:
    """gRPC metadata keys allow lowercase letters, digits, '-', '_' and '.' only."""
    return bool(METADATA_KEY.match(name))


def _header_safe(value: str) -> bool:
    return value.isascii() and value.isprintable() and len(value) <= 4096


def _to_proto_part(part: ContentPart) -> runtime_pb2.ContentPart:
    proto = runtime_pb2.ContentPart(type=part.type, text=part.text or "")
    if part.media is not None:
        proto.media.CopyFrom(
            runtime_pb2.MediaContent(
                data=part.media.data or "",
                url=part.media.url or "",
                mime_type=part.media.mime_type,
                storage_ref=part.media.storage_ref or "",
            )
        )
    return proto


def _client_message(request: TurnRequest) -> runtime_pb2.ClientMessage:
    """The turn's message to the runtime; empty collections are left unset (cheaper to build than empty ones)."""
    message = runtime_pb2.ClientMessage(session_id=request.session_id, content=request.content)
    if request.metadata:
        message.metadata.update(request.metadata)
    if request.parts:
        message.parts.extend(_to_proto_part(part) for part in request.parts)
    if request.consent_grants:
        message.consent_grants.extend(request.consent_grants)
    return message


def _from_proto_part(part: runtime_pb2.ContentPart) -> ContentPart | None:
    if part.type not in ("text", "image", "audio", "video", "file"):
        return None
    media = None
    if part.HasField("media"):
        media = MediaContent(
            data=part.media.data or None,
            url=part.media.url or None,
            storage_ref=part.media.storage_ref or None,
            mime_type=part.media.mime_type or "application/octet-stream",
        )
    return ContentPart.model_validate({"type": part.type, "text": part.text or None, "media": media})


def _arguments(arguments_json: str) -> dict[str, Any]:
    if not arguments_json:
        return {}
    try:
        value = json.loads(arguments_json)
    except ValueError:
        return {"_raw": arguments_json}
    return value if isinstance(value, dict) else {"value": value}


async def _first_answer(call: Any) -> runtime_pb2.ServerMessage | None:
    """The call's first message from the runtime; None when the call failed or ended first."""
    try:
        answer = await call.read()
    except (aio.AioRpcError, aio.UsageError, asyncio.InvalidStateError):
        return None
    return None if answer is aio.EOF else answer  # pyright: ignore[reportAttributeAccessIssue]


def _answer_of(reading: "asyncio.Task[runtime_pb2.ServerMessage | None]") -> runtime_pb2.ServerMessage | None:
    """The result of a finished ``_first_answer`` task (None when it was cancelled with its call)."""
    return None if reading.cancelled() else reading.result()


class _RuntimeTurn:
    def __init__(self, call: Any, session_id: str, first: runtime_pb2.ServerMessage | None = None) -> None:
        self._call = call
        self._session_id = session_id
        self._first = first
        self.completed = False

    async def events(self) -> AsyncGenerator[TurnEvent, None]:
        try:
            while True:
                message, self._first = self._first, None
                if message is None:
                    message = await self._call.read()
                if message is aio.EOF:  # pyright: ignore[reportAttributeAccessIssue]
                    raise AgentUnavailableError("the runtime ended the stream before the reply was done; retry")
                kind = message.WhichOneof("message")
                if kind == "chunk":
                    if message.chunk.content and message.chunk.role in ("", "assistant"):
                        yield TextDelta(message.chunk.content)
                elif kind == "tool_call":
                    call = message.tool_call
                    if call.execution == runtime_pb2.TOOL_EXECUTION_CLIENT:
                        yield ClientToolCall(
                            id=call.id,
                            name=call.name,
                            arguments=_arguments(call.arguments_json),
                            consent_message=call.consent_message,
                            categories=tuple(call.categories),
                        )
                elif kind == "done":
                    done = message.done
                    parts = [p for p in (_from_proto_part(part) for part in done.parts) if p is not None]
                    usage = None
                    if done.HasField("usage"):
                        usage = Usage(
                            input_tokens=done.usage.input_tokens,
                            output_tokens=done.usage.output_tokens,
                            cost_usd=done.usage.cost_usd,
                        )
                    self.completed = True
                    yield TurnDone(content=done.final_content, parts=parts, usage=usage)
                    return
                elif kind == "error":
                    raise RuntimeTurnError(message.error.code, message.error.message or "the runtime failed the turn")
                # runtime_hello, interruption and media_chunk carry nothing for a text turn.
        except aio.AioRpcError as e:
            raise AgentUnavailableError(
                f"the agent runtime is unavailable ({e.code().name}); the session is intact, retry the message"
            ) from e

    async def send_tool_result(self, call_id: str, result_json: str, *, rejected: bool, reason: str = "") -> None:
        result = runtime_pb2.ClientToolResult(
            call_id=call_id, result_json=result_json, is_rejected=rejected, rejection_reason=reason
        )
        try:
            await self._call.write(runtime_pb2.ClientMessage(session_id=self._session_id, client_tool_result=result))
        except (aio.AioRpcError, aio.UsageError) as e:
            raise AgentUnavailableError("the runtime stream closed before the tool result could be sent") from e


class RuntimeClient:
    """Turns over gRPC to the runtime (``OMNIA_HANDLER_MODE=runtime``).

    ``warm_calls`` is the most calls kept open ahead of a session's next turn (0: none, every turn opens its own).
    """

    name = "runtime"

    def __init__(
        self,
        address: str,
        *,
        agent_name: str,
        namespace: str,
        connect_timeout: float = 5.0,
        warm_calls: int = 0,
        warm_call_max_age: float = WARM_CALL_MAX_AGE,
    ) -> None:
        self._address = address
        self._agent_name = agent_name
        self._namespace = namespace
        self._connect_timeout = connect_timeout
        self._channel = aio.insecure_channel(address, options=CHANNEL_OPTIONS)
        self._stub = runtime_pb2_grpc.RuntimeServiceStub(self._channel)
        self._warm: WarmCallPool[Any] = WarmCallPool(capacity=warm_calls, max_age=warm_call_max_age)

    @property
    def warm_call_count(self) -> int:
        """How many calls are open, waiting for a session's next turn."""
        return len(self._warm)

    async def _wait_connected(self) -> None:
        if self._channel.get_state(try_to_connect=True) == grpc.ChannelConnectivity.READY:
            return
        try:
            async with asyncio.timeout(self._connect_timeout):
                await self._channel.channel_ready()
        except TimeoutError as e:
            raise AgentUnavailableError(
                f"the agent runtime at {self._address} did not accept a connection within "
                f"{self._connect_timeout:g}s; the session is intact, retry the message"
            ) from e

    @asynccontextmanager
    async def turn(self, request: TurnRequest) -> AsyncIterator[TurnStream]:
        headers = turn_headers(request, agent_name=self._agent_name, namespace=self._namespace)
        first = _client_message(request)
        opened = await self._use_warm_call(request.session_id, headers, first)
        if opened is None:
            call, answer = await self._open_call(_call_metadata(headers, request.request_id), first), None
        else:
            call, answer = opened
        runtime_turn = _RuntimeTurn(call, request.session_id, answer)
        try:
            yield runtime_turn
        finally:
            call.cancel()
            if runtime_turn.completed and not request.trace_headers:
                self._open_warm_call(request.session_id, headers)

    async def _open_call(self, metadata: list[tuple[str, str]], first: runtime_pb2.ClientMessage) -> Any:
        await self._wait_connected()
        call = self._stub.Converse(metadata=metadata)
        try:
            await call.write(first)
        except (aio.AioRpcError, aio.UsageError, asyncio.InvalidStateError) as e:
            call.cancel()
            raise AgentUnavailableError(
                "the agent runtime refused the message; the session is intact, retry the message"
            ) from e
        except BaseException:
            call.cancel()
            raise
        return call

    async def _use_warm_call(
        self, session_id: str, headers: Headers, first: runtime_pb2.ClientMessage
    ) -> tuple[Any, runtime_pb2.ServerMessage] | None:
        """Send ``first`` on the session's warm call; returns it with the runtime's first answer.

        The answer was read ahead (normally the runtime's hello, sent when the call opened), so the turn only
        waits for its write. None when there is no usable warm call, or when it failed before the runtime
        answered anything (the caller then opens a fresh call: the runtime never started this turn on it).
        """
        warm = self._warm.take(session_id, headers)
        if warm is None:
            return None
        call, reading = warm.call, warm.first_answer
        if reading is None or (reading.done() and _answer_of(reading) is None):
            call.cancel()
            return None
        try:
            await call.write(first)
            if not reading.done():  # a runtime that says hello only after the first message
                await asyncio.wait([reading])
        except (aio.AioRpcError, aio.UsageError, asyncio.InvalidStateError) as e:
            call.cancel()
            logger.debug("warm call of session %s failed before the runtime answered: %s", session_id, e)
            return None
        except BaseException:
            call.cancel()
            raise
        answer = _answer_of(reading)
        if answer is None:
            call.cancel()
            return None
        return call, answer

    def _open_warm_call(self, session_id: str, headers: Headers) -> None:
        """Open the session's next call now (when there is room and the channel is up)."""
        if not self._warm.has_room_for(session_id):
            return
        if self._channel.get_state() != grpc.ChannelConnectivity.READY:
            return
        request_id = str(uuid.uuid4())
        try:
            call = self._stub.Converse(metadata=_call_metadata(headers, request_id))
        except aio.UsageError:  # the channel is closing: the process is shutting down
            return
        reading = asyncio.ensure_future(_first_answer(call))
        self._warm.put(session_id, WarmCall(call=call, headers=headers, request_id=request_id, first_answer=reading))

    def session_closed(self, session_id: str) -> None:
        self._warm.discard(session_id)

    async def has_conversation(self, session_id: str) -> bool | None:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                await self._wait_connected()
            reply = await self._stub.HasConversation(
                runtime_pb2.HasConversationRequest(session_id=session_id), timeout=PROBE_TIMEOUT_S
            )
        except aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.UNIMPLEMENTED:
                return None
            raise AgentUnavailableError(f"the agent runtime is unavailable ({e.code().name})") from e
        except TimeoutError as e:
            raise AgentUnavailableError("the agent runtime did not answer the resume probe in time") from e
        if reply.state == runtime_pb2.RESUME_STATE_RESUMABLE:
            return True
        if reply.state == runtime_pb2.RESUME_STATE_NOT_FOUND:
            return False
        return None

    async def ready(self) -> bool:
        state = self._channel.get_state(try_to_connect=True)
        return state in (grpc.ChannelConnectivity.READY, grpc.ChannelConnectivity.IDLE)

    async def aclose(self) -> None:
        self._warm.close()
        await self._channel.close(grace=1.0)
