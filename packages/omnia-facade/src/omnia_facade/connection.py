"""One client connection: its session, limits, and the turn in flight.

A connection is a receive loop in the ASGI handler's own coroutine, plus at most one turn task while a user
message is being answered (the loop must keep reading ``tool_result`` frames meanwhile). An idle connection costs
no task and a few small objects.

The turn slot ("one turn in flight") is released the moment the turn's ``done`` or ``error`` frame has been sent:
a client may send its next message right after ``done``. The turn's session-store writes (a known session's user
message, the assistant's reply) go through the connection's ``SessionWrites`` instead, in order, and the connection
waits for them (bounded) when it closes. A new session's first message is still saved in front of its turn, after
the writes before it: the store must know the session before the runtime is asked.
"""

import asyncio
import contextlib
import dataclasses
import functools
import json
import logging
import re
import time
import uuid
from collections.abc import Iterator

from opentelemetry import propagate
from starlette.websockets import WebSocket, WebSocketDisconnect

from omnia_facade.errors import (
    AgentUnavailableError,
    ErrorCode,
    FacadeError,
    InvalidMessageError,
    MediaNotEnabledError,
    RateLimitedError,
    SessionExpiredError,
    client_message_for,
    error_code_for,
)
from omnia_facade.handlers.base import TurnDone, TurnRequest, TurnStream
from omnia_facade.identity import Identity
from omnia_facade.media.storage import parse_storage_ref
from omnia_facade.protocol import (
    ClientMessage,
    ContentPart,
    ServerMessage,
    UploadReadyInfo,
    connected_frame,
    error_frame,
    parse_client_message,
    rfc3339,
)
from omnia_facade.relay import relay_turn
from omnia_facade.session_writes import SessionWrites
from omnia_facade.sessions.base import Session, StoredMessage
from omnia_facade.state import FacadeState
from omnia_facade.token_bucket import TokenBucket

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


class Connection:
    """One client socket: its session, limits, and the turn in flight."""

    def __init__(
        self,
        websocket: WebSocket,
        state: FacadeState,
        *,
        identity: Identity,
        agent: str,
        namespace: str,
        binary: bool,
        workspace: str = "",
    ) -> None:
        self._ws = websocket
        self._state = state
        self._identity = identity
        self._agent = agent
        self._namespace = namespace
        self._binary = binary
        self.session_id = str(uuid.uuid4())
        self._session_bound = False
        self._bucket = TokenBucket(state.settings.facade_message_rate, state.settings.facade_message_burst)
        self._send_lock = asyncio.Lock()
        self._closed = False
        self._turn_task: asyncio.Task[None] | None = None
        self._turn_saving: asyncio.Task[None] | None = None
        self._stream: TurnStream | None = None
        self._pending_calls: dict[str, float] = {}
        self._session_consent_grants: list[str] = []
        self._workspace = workspace
        self._writes = SessionWrites(state, self._new_session)
        self._group: asyncio.TaskGroup | None = None

    # ------------------------------------------------------------ sending

    async def send(self, frame: str) -> None:
        if self._closed:
            return
        try:
            async with self._send_lock:
                await self._ws.send_text(frame)
        except (WebSocketDisconnect, RuntimeError, OSError):
            self._closed = True
            return
        self._state.metrics.messages_sent_total.inc()

    async def send_error(self, exc: BaseException) -> None:
        await self.send(error_frame(self.session_id, error_code_for(exc), client_message_for(exc)))

    async def shutdown(self, code: int, reason: str) -> None:
        """Cancel the turn in flight, then close the socket (used by drain and hangup)."""
        task = self._turn_task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            async with self._send_lock:
                await self._ws.close(code, reason)

    # ------------------------------------------------------------ receiving

    async def run(self, *, resume: str | None) -> None:
        resumed = False
        if resume and SESSION_ID.match(resume):
            try:
                resumed = await self._state.store.get(resume) is not None
            except FacadeError:
                logger.warning("session store unavailable while resuming at connect")
            if resumed:
                self.session_id = resume
                self._bind_session()
        await self.send(
            connected_frame(
                self.session_id,
                max_payload_size=self._state.settings.facade_max_message_size,
                binary_frames=False,
                resumed=resumed,
            )
        )
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                await self._receive_loop(group)
                task = self._turn_task
                if task is not None and not task.done():
                    task.cancel()
                    await asyncio.wait([task])
                await self._writes.drain()  # no reply is lost because the client left
        finally:
            self._state.handler.session_closed(self.session_id)
            if self._session_bound:
                self._state.metrics.sessions_active.dec()

    async def _receive_loop(self, group: asyncio.TaskGroup) -> None:
        max_size = self._state.settings.facade_max_message_size
        while not self._closed:
            message = await self._ws.receive()
            if message["type"] == "websocket.disconnect":
                self._closed = True
                return
            self._state.metrics.messages_received_total.inc()
            if not self._bucket.take():
                await self.send(error_frame(self.session_id, ErrorCode.RATE_LIMITED, "too many messages: slow down"))
                continue
            text = message.get("text")
            if text is None:
                detail = (
                    "binary media frames are not supported by this facade"
                    if self._binary
                    else "binary frames were not negotiated: send JSON text frames (or connect with ?binary=true)"
                )
                await self.send(error_frame(self.session_id, ErrorCode.INVALID_MESSAGE, detail))
                continue
            if len(text) > max_size:
                await self.send(
                    error_frame(self.session_id, ErrorCode.INVALID_MESSAGE, f"message larger than {max_size} bytes")
                )
                continue
            try:
                parsed = parse_client_message(text)
                if parsed.type == "hangup":
                    await self.shutdown(1000, "hangup")
                    return
                await self._dispatch(parsed, group)
            except FacadeError as e:
                await self.send_error(e)
            except Exception as e:
                logger.exception("unexpected failure handling a client frame")
                await self.send_error(e)

    async def _dispatch(self, message: ClientMessage, group: asyncio.TaskGroup) -> None:
        if message.type == "message":
            await self._start_turn(message, group)
        elif message.type == "tool_result":
            info = message.tool_result
            if info is None:
                raise InvalidMessageError("tool_result message needs a 'tool_result' object with 'call_id'")
            rejected = info.error is not None
            result_json = "" if rejected else json.dumps(info.result)
            await self._answer_tool(info.call_id, result_json, rejected=rejected, reason=info.error or "")
        elif message.type == "tool_call_nack":
            nack = message.tool_call_nack
            if nack is None:
                raise InvalidMessageError("tool_call_nack message needs a 'tool_call_nack' object with 'call_id'")
            await self._answer_tool(nack.call_id, "", rejected=True, reason=nack.reason or "declined by the client")
        elif message.type == "tool_call_ack":
            ack = message.tool_call_ack
            if ack is None or ack.call_id not in self._pending_calls:
                raise InvalidMessageError("no pending tool call with that call_id")
        elif message.type == "upload_request":
            await self._upload_request(message)

    # ------------------------------------------------------------ sessions

    def _bind_session(self) -> None:
        if not self._session_bound:
            self._session_bound = True
            self._state.metrics.sessions_active.inc()

    async def _resolve_session(self, requested: str | None) -> str:
        store = self._state.store
        if not requested or requested == self.session_id:
            if not self._session_bound or await store.get(self.session_id) is None:
                await store.create(self._new_session(self.session_id))
            return self.session_id
        if not SESSION_ID.match(requested):
            raise InvalidMessageError("session_id must be 1-128 letters, digits, '-', '_', '.' or ':'")
        if await store.get(requested) is None:
            known = await self._state.handler.has_conversation(requested)
            if not known:
                raise SessionExpiredError(
                    f"session {requested} is unknown or has expired: send the message without session_id "
                    "to start a new conversation"
                )
            await store.create(self._new_session(requested))
        self.session_id = requested
        return requested

    def _new_session(self, session_id: str) -> Session:
        return Session(id=session_id, agent_name=self._agent, namespace=self._namespace, user_id=self._identity.subject)

    # ------------------------------------------------------------ turns

    def _check_parts(self, parts: list[ContentPart], session_id: str) -> None:
        for part in parts:
            ref = part.media.storage_ref if part.media is not None else None
            if not ref:
                continue
            media = self._state.media
            if media is None:
                raise MediaNotEnabledError("storage_ref given but media storage is not enabled on this agent")
            ref_session, media_id = parse_storage_ref(ref)
            if ref_session != session_id:
                raise InvalidMessageError("storage_ref belongs to another session")
            media.info(ref_session, media_id)

    async def _start_turn(self, message: ClientMessage, group: asyncio.TaskGroup) -> None:
        if self._turn_task is not None:
            raise RateLimitedError("too many in-flight requests: wait for 'done' before sending another message")
        parts = message.parts or []
        content = message.content or ""
        if not content and not parts:
            raise InvalidMessageError("a 'message' needs non-empty 'content' or 'parts'")
        if message.session_consent_grants:
            self._session_consent_grants = list(message.session_consent_grants)
        # The session this connection already serves is only refreshed in the store: that runs beside the turn.
        same_session = self._session_bound and message.session_id in (None, "", self.session_id)
        if same_session:
            session_id = self.session_id
            self._check_parts(parts, session_id)
            if not self._writes.has_room():
                await self._writes.make_room()
        else:
            await self._writes.settle()
            session_id = await self._begin_session(message, parts)
            await self._state.store.append(session_id, _user_message(message))
        request = TurnRequest(
            session_id=session_id,
            content=content,
            parts=parts,
            metadata=message.metadata or {},
            identity=self._identity,
            consent_grants=list(message.consent_grants or self._session_consent_grants),
            workspace=self._workspace,
        )
        self._state.turn_started()
        # The turn's task is created first, so it reaches the runtime before the user message's save runs.
        self._turn_task = group.create_task(self._run_turn(request))
        if same_session:  # the store's entry is built when the save runs, after the turn's first step
            entry = functools.partial(_user_message, message, received_at=time.time())
            self._turn_saving = self._writes.user_message(group, session_id, entry)

    async def _begin_session(self, message: ClientMessage, parts: list[ContentPart]) -> str:
        """Resolve (and create or resume) the session of a connection's first turn or of another session id."""
        first_bind = not self._session_bound
        previous = None if first_bind else self.session_id
        session_id = await self._resolve_session(message.session_id)
        if previous is not None and previous != session_id:
            self._state.handler.session_closed(previous)  # this connection no longer serves it
        self._check_parts(parts, session_id)
        self._bind_session()
        if first_bind and not message.session_id:
            await self.send(
                connected_frame(
                    session_id,
                    max_payload_size=self._state.settings.facade_max_message_size,
                    binary_frames=False,
                    resumed=False,
                )
            )
        return session_id

    async def _run_turn(self, request: TurnRequest) -> None:
        """Relay one turn; the slot is released the moment its ``done`` or ``error`` is out (``_end_turn``).

        ``_turn_saving`` is the pending save of a known session's user message: cancelled with a turn cancelled
        midway.
        """
        state = self._state
        started = time.monotonic()
        released = False

        def release(status: str, done: TurnDone | None = None) -> None:
            nonlocal released
            if not released:
                released = True
                self._end_turn(request.session_id, started, status, done)

        state.metrics.requests_inflight.inc()
        try:
            with self._turn_span(request) as request:
                try:
                    async with state.handler.turn(request) as stream:
                        self._stream = stream
                        done = await relay_turn(
                            stream,
                            request.session_id,
                            self.send,
                            self._pending_calls,
                            state.settings.facade_client_tool_timeout,
                        )
                        release("success", done)  # `done` is out: the client may send its next message
                except asyncio.CancelledError:
                    saving = self._turn_saving
                    if not released and saving is not None and not saving.done():
                        saving.cancel()  # the client left mid-turn, or the facade shuts down: nothing to keep
                    release("cancelled")
                    raise
                except FacadeError as e:
                    if released:
                        logger.warning("a finished turn of session %s failed closing: %s", request.session_id, e)
                        return
                    if not isinstance(e, AgentUnavailableError):
                        logger.info("turn failed: %s", e)
                    await self.send_error(e)
                except Exception as e:
                    logger.exception("unexpected failure during a turn")
                    if not released:
                        await self.send_error(e)
        finally:
            release("error")

    @contextlib.contextmanager
    def _turn_span(self, request: TurnRequest) -> Iterator[TurnRequest]:
        """The turn's span, and the request carrying its trace context to the runtime (as is when not tracing)."""
        state = self._state
        if not state.tracing:
            yield request
            return
        attributes = {
            "session.id": request.session_id,
            "omnia.agent.name": self._agent,
            "omnia.agent.namespace": self._namespace,
        }
        with state.tracer.start_as_current_span("omnia.facade.message", attributes=attributes):
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            yield dataclasses.replace(request, trace_headers=carrier)

    def _end_turn(self, session_id: str, started: float, status: str, done: TurnDone | None) -> None:
        """Free the turn slot, queue the reply's save, book the turn's metrics.

        Nothing here awaits: a client that sends its next message right after reading ``done`` must never find
        the slot still taken by the turn that sent it.
        """
        self._stream = None
        self._pending_calls.clear()
        self._turn_task = None
        self._turn_saving = None
        state = self._state
        metrics = state.metrics
        metrics.requests_inflight.dec()
        metrics.requests_total.labels(status=status).inc()
        metrics.request_duration_seconds.labels(handler=state.handler.name).observe(time.monotonic() - started)
        if done is not None and self._group is not None:
            self._writes.reply(self._group, session_id, done.content)  # before the next turn's user message
        state.turn_finished()

    async def _answer_tool(self, call_id: str, result_json: str, *, rejected: bool, reason: str) -> None:
        stream = self._stream
        if stream is None or call_id not in self._pending_calls:
            raise InvalidMessageError(f"no pending tool call with id {call_id[:100]!r}")
        del self._pending_calls[call_id]
        await stream.send_tool_result(call_id, result_json, rejected=rejected, reason=reason)

    # ------------------------------------------------------------ media

    async def _upload_request(self, message: ClientMessage) -> None:
        media = self._state.media
        if media is None:
            raise MediaNotEnabledError("media uploads are not enabled on this agent (OMNIA_MEDIA_STORAGE_TYPE=none)")
        info = message.upload_request
        if info is None:
            raise InvalidMessageError("upload_request message needs an 'upload_request' object")
        session_id = await self._resolve_session(message.session_id)
        self._bind_session()
        upload = media.request_upload(
            session_id=session_id,
            filename=info.filename,
            mime_type=info.mime_type,
            size_bytes=info.size_bytes,
            owner=self._identity.subject,  # empty when unauthenticated: no owner to check
        )
        scheme = "https" if self._ws.url.scheme == "wss" else "http"
        url = f"{scheme}://{self._ws.url.netloc}/media/upload/{upload.upload_id}"
        ready = UploadReadyInfo(
            upload_id=upload.upload_id,
            upload_url=url,
            storage_ref=upload.storage_ref,
            expires_at=upload.expires_at_rfc3339,
        )
        await self.send(ServerMessage(type="upload_ready", session_id=session_id, upload_ready=ready).encode())


def _user_message(message: ClientMessage, *, received_at: float | None = None) -> StoredMessage:
    """The store's entry for the user's ``message`` (``received_at``: its ``time.time()``, default now): its
    content, or its parts' text."""
    parts = message.parts or []
    text = message.content or " ".join(part.text for part in parts if part.text)
    stamp = rfc3339(time.time() if received_at is None else received_at)
    return StoredMessage(role="user", content=text, metadata=message.metadata or {}, timestamp=stamp)
