"""``omnia.runtime.v1.RuntimeService`` over ``grpc.aio``, serving any ``Handler``.

Converse: send ``runtime_hello`` as soon as the stream opens, read the first ``ClientMessage`` (bounded
wait), run the handler with a ``StreamEmitter``, and keep reading the client's side for ``client_tool_result``
messages; a handler failure ends the turn with one ``Error`` frame (never a hung stream). The hello is the first
frame, as the contract requires, but it does not wait for the message: a client that opens its call ahead of the
turn (the facade's warm calls) has it before the user has typed, and the turn's first frame is text.

Messages larger than the configured limit are refused by gRPC itself (RESOURCE_EXHAUSTED); content longer than
``max_content_length`` gets an ``INVALID_MESSAGE`` error frame. Identity comes from the ``x-omnia-*`` call
metadata. Invoke failures (malformed ``input_json`` included) abort with the table's status and
``"<Error.code>: <message>"`` as details; every failed turn or invocation is logged, with its traceback when
unexpected (the client only sees ``INTERNAL_ERROR``).
"""

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import grpc

from omnia_protos import CONTRACT_VERSION
from omnia_protos.runtime.v1 import runtime_pb2, runtime_pb2_grpc
from omnia_runtime import metrics
from omnia_runtime.errors import InvalidRequestError
from omnia_runtime.handler import ConversationProber, Handler, Invoker, Turn
from omnia_runtime.server.status_map import classify
from omnia_runtime.server.stream import StreamEmitter

logger = logging.getLogger(__name__)

FIRST_MESSAGE_TIMEOUT = 30.0
IDENTITY_PREFIX = "x-omnia-"
TASK_CLEANUP_TIMEOUT = 5.0


def identity_of(context: grpc.aio.ServicerContext[Any, Any]) -> dict[str, str]:
    metadata = context.invocation_metadata() or ()
    return {
        key[len(IDENTITY_PREFIX) :]: value
        for key, value in metadata
        if key.startswith(IDENTITY_PREFIX) and isinstance(value, str)
    }


def log_failure(error: BaseException, what: str) -> None:
    """Log a failed turn or invocation: the traceback for unexpected errors (the client sees none of it)."""
    status, code, _ = classify(error)
    if status == grpc.StatusCode.INTERNAL and code == "INTERNAL_ERROR":
        logger.error("%s failed", what, exc_info=error)
    else:
        logger.warning("%s failed: %s", what, error)


def error_frame(error: BaseException) -> runtime_pb2.ServerMessage:
    _, code, message = classify(error)
    return runtime_pb2.ServerMessage(error=runtime_pb2.Error(code=code, message=message))


def invocation_input(input_json: str) -> dict[str, Any]:
    """The JSON object of an ``InvocationRequest``; ``InvalidRequestError`` when it is not one."""
    try:
        data = json.loads(input_json or "{}")
    except json.JSONDecodeError as e:
        raise InvalidRequestError(f"input_json is not valid JSON: {e.msg} at position {e.pos}") from e
    if not isinstance(data, dict):
        raise InvalidRequestError(f"input_json must be a JSON object, not {type(data).__name__}")
    return data


class RuntimeService(runtime_pb2_grpc.RuntimeServiceServicer):
    def __init__(
        self,
        handler: Handler,
        *,
        max_content_length: int = 1024 * 1024,
        client_tool_timeout: float = 60.0,
        not_ready_reasons: Callable[[], Sequence[str]] = list,
    ):
        self._handler = handler
        self._not_ready_reasons = not_ready_reasons
        self._max_content = max_content_length
        self._client_tool_timeout = client_tool_timeout

    def capabilities(self) -> Sequence[str]:
        return list(self._handler.capabilities())

    async def Converse(  # pyright: ignore[reportIncompatibleMethodOverride]
        self,
        request_iterator: AsyncIterator[runtime_pb2.ClientMessage],
        context: grpc.aio.ServicerContext[runtime_pb2.ClientMessage, runtime_pb2.ServerMessage],
    ) -> AsyncIterator[runtime_pb2.ServerMessage]:
        # An async generator (not context.write) so gRPC interceptors such as OpenTelemetry's can wrap it.
        # A call counts as an active session from its first message: a facade opens the next turn's call ahead of
        # time (a warm call), and an idle one is not a conversation.
        yield runtime_pb2.ServerMessage(runtime_hello=runtime_pb2.RuntimeHello(capabilities=self.capabilities()))
        try:
            async with asyncio.timeout(FIRST_MESSAGE_TIMEOUT):
                first = await anext(aiter(request_iterator), None)
        except TimeoutError:
            yield error_frame(InvalidRequestError("no ClientMessage received within 30s"))
            return
        if first is None:
            return
        metrics.ACTIVE_SESSIONS.inc()
        try:
            problem = self._check_first(first)
            if problem is not None:
                yield error_frame(problem)
                return
            identity = identity_of(context)
            turn = Turn(
                session_id=first.session_id or identity.get("session-id", ""),
                content=first.content or "\n".join(p.text for p in first.parts if p.text),
                metadata=dict(first.metadata),
                identity=identity,
                consent_grants=list(first.consent_grants),
            )
            emitter = StreamEmitter(self._client_tool_timeout)
            # Not a TaskGroup: this generator yields, and a client that cancels the call closes it at a yield
            # (GeneratorExit). The tasks are owned here and always cancelled and awaited in `finally`. The reader
            # of client tool results starts once the first frame is out (no result can come before a tool call
            # frame), so it does not stand between the handler's first chunk and its write.
            tasks = [asyncio.create_task(self._run_handler(turn, emitter))]
            try:
                async for frame in emitter.frames():
                    yield frame
                    if len(tasks) == 1:
                        tasks.append(asyncio.create_task(self._read_tool_results(request_iterator, emitter)))
            finally:
                await _finish(*tasks)
        finally:
            metrics.ACTIVE_SESSIONS.dec()

    def _check_first(self, first: runtime_pb2.ClientMessage) -> InvalidRequestError | None:
        if len(first.content) > self._max_content:
            return InvalidRequestError(
                f"message content is {len(first.content)} characters; the limit is {self._max_content}"
            )
        if not first.content and not first.parts:
            return InvalidRequestError("the ClientMessage has no content")
        return None

    async def _run_handler(self, turn: Turn, emitter: StreamEmitter) -> None:
        try:
            await self._handler.converse(turn, emitter)
            if not emitter.done_sent:
                await emitter.done()
        except Exception as e:
            log_failure(e, f"turn of session {turn.session_id}")
            emitter.send(error_frame(e))
        finally:
            emitter.close()

    async def _read_tool_results(
        self, request_iterator: AsyncIterator[runtime_pb2.ClientMessage], emitter: StreamEmitter
    ) -> None:
        async for message in request_iterator:
            if message.HasField("client_tool_result") and not emitter.deliver(message.client_tool_result):
                logger.warning("client tool result for unknown call %s ignored", message.client_tool_result.call_id)

    async def Invoke(
        self, request: runtime_pb2.InvocationRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> runtime_pb2.InvocationResponse:
        if not isinstance(self._handler, Invoker) or "invoke" not in self.capabilities():
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "this runtime does not offer Invoke")
        assert isinstance(self._handler, Invoker)
        started = time.monotonic()
        try:
            output, usage = await self._handler.invoke(invocation_input(request.input_json), dict(request.metadata))
        except Exception as e:
            log_failure(e, f"invocation {request.invocation_id}")
            status, code, message = classify(e)
            await context.abort(status, f"{code}: {message}")
        return runtime_pb2.InvocationResponse(
            output_json=output if isinstance(output, str) else json.dumps(output),
            usage=runtime_pb2.Usage(
                input_tokens=usage.input_tokens, output_tokens=usage.output_tokens, cost_usd=usage.cost_usd
            ),
            duration_ms=int((time.monotonic() - started) * 1000),
            invocation_id=request.invocation_id,
        )

    async def Health(
        self, request: runtime_pb2.HealthRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> runtime_pb2.HealthResponse:
        reasons = list(self._not_ready_reasons())
        return runtime_pb2.HealthResponse(
            healthy=not reasons,
            status="ok" if not reasons else "not ready: " + "; ".join(reasons[:3]),
            contract_version=CONTRACT_VERSION,
            capabilities=self.capabilities(),
        )

    async def HasConversation(
        self, request: runtime_pb2.HasConversationRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> runtime_pb2.HasConversationResponse:
        if not request.session_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "session_id is required")
        state = runtime_pb2.RESUME_STATE_UNAVAILABLE
        found: bool | None = None
        if isinstance(self._handler, ConversationProber):
            found = await self._handler.has_conversation(request.session_id)
        if found is True:
            state = runtime_pb2.RESUME_STATE_RESUMABLE
        elif found is False:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no conversation stored for session {request.session_id}")
        return runtime_pb2.HasConversationResponse(state=state)


async def start_grpc_server(
    service: RuntimeService, *, host: str, port: int, max_message_size: int, tracing: bool = False
) -> tuple[grpc.aio.Server, int]:
    """Start the server; returns it and the bound port (``port=0`` picks a free one)."""
    interceptors: list[Any] = []
    if tracing:
        from omnia_runtime.tracing import server_interceptors

        interceptors = server_interceptors()
    server = grpc.aio.server(
        interceptors=interceptors,
        options=[
            ("grpc.max_receive_message_length", max_message_size),
            ("grpc.max_send_message_length", max_message_size),
        ],
    )
    runtime_pb2_grpc.add_RuntimeServiceServicer_to_server(service, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot listen for gRPC on {host}:{port}")
    await server.start()
    return server, bound


async def _finish(*tasks: asyncio.Task[None]) -> None:
    """Cancel the turn's tasks, wait for them (bounded), and log what they raised: nothing is left unretrieved."""
    for task in tasks:
        task.cancel()
    done, pending = await asyncio.wait(tasks, timeout=TASK_CLEANUP_TIMEOUT)
    if pending:
        logger.warning(
            "%d Converse task(s) did not stop within %ss of the stream's end", len(pending), TASK_CLEANUP_TIMEOUT
        )
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            logger.warning("a Converse task failed after the stream ended: %r", task.exception())
