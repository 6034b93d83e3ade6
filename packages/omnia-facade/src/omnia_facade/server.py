"""Serving: both listeners (WebSocket app and health app) on uvicorn in one process, and graceful drain.

Uvicorn's own signal handling is turned off: ``FacadeServer`` owns shutdown. On SIGTERM/SIGINT (or when ``stop``
is set) it drains — ``/readyz`` answers 503, new upgrades get 503, turns in flight get up to
``OMNIA_FACADE_DRAIN_TIMEOUT`` to finish, then every socket closes with 1001 — and only then stops the listeners.
Sockets are bound before serving so the ports are known (port 0 picks a free one, as tests do).
"""

import asyncio
import contextlib
import gc
import logging
import signal
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from omnia_facade.app import create_app
from omnia_facade.health import create_health_app
from omnia_facade.settings import FacadeSettings
from omnia_facade.tracing import build_tracer_provider

logger = logging.getLogger(__name__)

FRAME_SLACK_BYTES = 64 * 1024


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals alone and reports when it listens."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.listening.set()


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def websocket_config(app: FastAPI, settings: FacadeSettings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        ws="websockets-sansio",
        ws_max_size=settings.facade_max_message_size + FRAME_SLACK_BYTES,
        ws_ping_interval=settings.facade_ping_interval,
        ws_ping_timeout=settings.facade_ping_timeout,
        ws_per_message_deflate=settings.facade_per_message_deflate,
        lifespan="on",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.facade_drain_timeout) + 5,
    )


class FacadeServer:
    """The facade process: WebSocket listener + health listener + drain.

    ``freeze_startup_objects``: once listening, move every object that exists (modules, app, settings: all
    start-up state, which lives as long as the process) out of the garbage collector's sight with
    ``gc.freeze()``. A full collection then scans only what turns created; without it, one took 20-70 ms of a
    loaded facade (measured with ``gc.callbacks`` during ``bench/bench_streaming.py``), a stall of every
    connection that showed as 40-55 ms p99 first-chunk spikes. The process's own server sets it; tests that run
    several servers in one process leave it off.
    """

    def __init__(
        self, settings: FacadeSettings, app: FastAPI | None = None, *, freeze_startup_objects: bool = False
    ) -> None:
        self.settings = settings
        self._freeze_startup_objects = freeze_startup_objects
        self.app = app if app is not None else create_app(settings)
        self.health_app = create_health_app(self.app)
        self._ws_socket = bind(settings.bind_host, settings.facade_port)
        self._health_socket = bind(settings.bind_host, settings.health_port)
        self.port: int = self._ws_socket.getsockname()[1]
        self.health_port: int = self._health_socket.getsockname()[1]
        self._ws_server = _Server(websocket_config(self.app, settings))
        self._health_server = _Server(
            uvicorn.Config(self.health_app, lifespan="off", log_config=None, access_log=False)
        )
        self.ready = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set, then drain and shut down."""
        async with asyncio.TaskGroup() as group:
            ws_task = group.create_task(self._ws_server.serve(sockets=[self._ws_socket]))
            group.create_task(self._health_server.serve(sockets=[self._health_socket]))
            started = group.create_task(self._wait_listening())
            stopped = group.create_task(stop.wait())
            await asyncio.wait([started, stopped, ws_task], return_when=asyncio.FIRST_COMPLETED)
            if started.done():
                if self._freeze_startup_objects:
                    gc.freeze()  # see freeze_startup_objects
                self.ready.set()
                logger.info("listening on %s:%d (health %d)", self.settings.bind_host, self.port, self.health_port)
            await asyncio.wait([stopped, ws_task], return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            started.cancel()
            state = getattr(self.app.state, "facade", None)
            if state is not None:
                logger.info("draining: up to %gs for turns in flight", self.settings.facade_drain_timeout)
                await state.drain(self.settings.facade_drain_timeout)
            self._ws_server.should_exit = True
            self._health_server.should_exit = True

    async def _wait_listening(self) -> None:
        await self._ws_server.listening.wait()
        await self._health_server.listening.wait()


async def serve_forever(settings: FacadeSettings) -> None:
    """Run the facade until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    provider = build_tracer_provider(settings)
    app = create_app(settings, tracer_provider=provider)
    try:
        await FacadeServer(settings, app, freeze_startup_objects=True).run(stop)
    finally:
        if provider is not None:
            provider.shutdown()
