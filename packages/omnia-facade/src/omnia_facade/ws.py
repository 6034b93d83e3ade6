"""The WebSocket endpoint: upgrade checks (drain, connection cap, agent, origin, credentials), then one
``Connection`` per accepted socket.

Refusals use the ASGI denial-response extension, so clients see a real HTTP status (400, 401, 403, 503) instead of
a closed socket.
"""

from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocket

from omnia_facade.connection import Connection
from omnia_facade.errors import AuthError, OriginNotAllowedError
from omnia_facade.state import FacadeState


async def websocket_endpoint(websocket: WebSocket) -> None:
    state: FacadeState = websocket.app.state.facade
    settings = state.settings
    refusal = await _refusal(websocket, state)
    if refusal is not None:
        status, text, reason = refusal
        state.metrics.connections_rejected_total.labels(reason=reason).inc()
        await websocket.send_denial_response(PlainTextResponse(text, status_code=status))
        return
    identity = websocket.scope["omnia.identity"]
    params = websocket.query_params
    connection = Connection(
        websocket,
        state,
        identity=identity,
        agent=params.get("agent") or settings.agent_name,
        namespace=params.get("namespace") or settings.namespace,
        binary=params.get("binary", "").lower() == "true",
        workspace=params.get("workspace", "")[:128],
    )
    await websocket.accept()
    state.connections.add(connection)
    state.metrics.connections_active.inc()
    state.metrics.connections_total.inc()
    try:
        await connection.run(resume=params.get("resume") or params.get("session_id"))
    finally:
        state.connections.discard(connection)
        state.metrics.connections_active.dec()


async def _refusal(websocket: WebSocket, state: FacadeState) -> tuple[int, str, str] | None:
    settings = state.settings
    if state.draining:
        return 503, "the facade is shutting down: reconnect to another replica", "draining"
    if len(state.connections) >= settings.facade_max_connections:
        return 503, "too many connections on this replica: retry later", "max_connections"
    if not (websocket.query_params.get("agent") or settings.agent_name):
        return 400, "agent parameter is required", "bad_request"
    try:
        state.auth.check_origin(websocket.headers)
        websocket.scope["omnia.identity"] = await state.auth.authenticate(websocket.headers)
    except OriginNotAllowedError as e:
        return 403, str(e), "origin"
    except AuthError as e:
        return 401, str(e), "unauthorized"
    return None
