"""The FastAPI app of the facade's external listener (WebSocket ``/ws``, media routes) and its factory.

``create_app`` takes the settings and, for tests or embedding, ready-made backends; whatever is not given is built
from the settings in the lifespan (a gRPC channel belongs to the running event loop, so it cannot be made earlier).
The app's shared state is ``app.state.facade`` (a ``FacadeState``) once the lifespan has started.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.trace import TracerProvider

from omnia_facade.auth import Authenticator
from omnia_facade.console import console_router
from omnia_facade.errors import ConfigError
from omnia_facade.handlers.base import TurnHandler
from omnia_facade.handlers.demo import DemoHandler
from omnia_facade.handlers.echo import EchoHandler
from omnia_facade.media.routes import media_router
from omnia_facade.media.storage import LocalMediaStorage
from omnia_facade.metrics import FacadeMetrics
from omnia_facade.sessions.base import SessionStore
from omnia_facade.sessions.memory import InMemorySessionStore
from omnia_facade.sessions.redis_store import RedisSessionStore
from omnia_facade.settings import FacadeSettings
from omnia_facade.state import FacadeState
from omnia_facade.ws import websocket_endpoint

logger = logging.getLogger(__name__)


def build_handler(settings: FacadeSettings) -> TurnHandler:
    if settings.handler_mode == "echo":
        return EchoHandler()
    if settings.handler_mode == "demo":
        return DemoHandler(delay=settings.facade_demo_delay, tool_timeout=settings.facade_client_tool_timeout)
    from omnia_facade.runtime_client import RuntimeClient

    return RuntimeClient(
        settings.runtime_address,
        agent_name=settings.agent_name,
        namespace=settings.namespace,
        connect_timeout=settings.runtime_connect_timeout,
        warm_calls=settings.facade_warm_calls,
    )


def build_session_store(settings: FacadeSettings) -> SessionStore:
    if settings.session_type == "redis":
        if not settings.session_store_url:
            raise ConfigError("OMNIA_SESSION_TYPE=redis needs OMNIA_SESSION_STORE_URL (redis://host:port/db)")
        return RedisSessionStore(
            settings.session_store_url,
            ttl=settings.session_ttl,
            prefix=settings.session_key_prefix,
            max_messages=settings.session_max_messages,
        )
    return InMemorySessionStore(ttl=settings.session_ttl, max_messages=settings.session_max_messages)


def build_media_storage(settings: FacadeSettings) -> LocalMediaStorage | None:
    if not settings.media_enabled:
        return None
    return LocalMediaStorage(
        settings.media_storage_path,
        max_file_size=settings.media_max_file_size,
        allowed_types=settings.media_types,
        upload_ttl=settings.media_upload_url_ttl,
        media_ttl=settings.media_default_ttl,
    )


def create_app(
    settings: FacadeSettings,
    *,
    runtime_client: TurnHandler | None = None,
    session_store: SessionStore | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """The external-listener app. ``runtime_client`` replaces the handler chosen by ``OMNIA_HANDLER_MODE``."""
    auth = Authenticator(settings)
    media = build_media_storage(settings)
    store = session_store if session_store is not None else build_session_store(settings)
    mode = runtime_client.name if runtime_client is not None else settings.handler_mode
    metrics = FacadeMetrics(agent=settings.agent_name, namespace=settings.namespace, handler=mode)
    # Only an explicit provider (OMNIA_TRACING_ENABLED, or one passed in) traces: a global provider set up by other
    # code in the process (FastAPI's own telemetry uses it) must not put trace context on turns (nor switch off
    # warm calls).
    tracer = (tracer_provider or trace.NoOpTracerProvider()).get_tracer("omnia_facade")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        handler = runtime_client if runtime_client is not None else build_handler(settings)
        state = FacadeState(
            settings=settings,
            handler=handler,
            store=store,
            auth=auth,
            metrics=metrics,
            tracer=tracer,
            media=media,
            tracing=tracer_provider is not None,
        )
        app.state.facade = state
        metrics.warm_calls.set_function(lambda: float(getattr(handler, "warm_call_count", 0)))
        state.started = True
        logger.info("facade ready: handler=%s sessions=%s media=%s", handler.name, settings.session_type, bool(media))
        try:
            yield
        finally:
            state.draining = True
            await handler.aclose()
            await store.aclose()

    app = FastAPI(title="omnia-facade", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.metrics = metrics
    app.add_api_websocket_route("/ws", websocket_endpoint)
    app.add_api_websocket_route("/api/agents/{namespace}/{name}/ws", websocket_endpoint)
    if media is not None:
        app.include_router(media_router(media, auth, metrics))
    if settings.facade_console_enabled:
        app.include_router(console_router(settings.agent_name))
    return app
