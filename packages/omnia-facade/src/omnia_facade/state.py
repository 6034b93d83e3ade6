"""What the app shares between connections: settings, backends, the connection registry and drain state."""

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from opentelemetry.trace import Tracer

from omnia_facade.auth import Authenticator
from omnia_facade.handlers.base import TurnHandler
from omnia_facade.media.storage import LocalMediaStorage
from omnia_facade.metrics import FacadeMetrics
from omnia_facade.sessions.base import SessionStore
from omnia_facade.settings import FacadeSettings

if TYPE_CHECKING:
    from omnia_facade.connection import Connection


@dataclass
class FacadeState:
    settings: FacadeSettings
    handler: TurnHandler
    store: SessionStore
    auth: Authenticator
    metrics: FacadeMetrics
    tracer: Tracer
    media: LocalMediaStorage | None = None
    tracing: bool = False
    """Whether this facade traces (its own provider): only then does a turn carry trace context to the runtime."""
    connections: "set[Connection]" = field(default_factory=set)
    draining: bool = False
    started: bool = False
    turns_in_flight: int = 0
    saves_pending: int = 0
    """Session-store writes of finished (or running) turns that the store has not answered yet."""
    _idle: asyncio.Event = field(default_factory=asyncio.Event)
    _no_turns: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._idle.set()
        self._no_turns.set()

    def turn_started(self) -> None:
        self.turns_in_flight += 1
        self._update()

    def turn_finished(self) -> None:
        self.turns_in_flight = max(0, self.turns_in_flight - 1)
        self._update()

    def save_started(self) -> None:
        self.saves_pending += 1
        self._update()

    def save_finished(self) -> None:
        self.saves_pending = max(0, self.saves_pending - 1)
        self._update()

    def _update(self) -> None:
        if self.turns_in_flight:
            self._no_turns.clear()
        else:
            self._no_turns.set()
        if self.turns_in_flight or self.saves_pending:
            self._idle.clear()
        else:
            self._idle.set()

    async def wait_idle(self) -> None:
        """Until no turn is in flight and no session-store write is pending."""
        await self._idle.wait()

    async def wait_no_turns(self) -> None:
        """Until no turn is in flight (a turn ends when its ``done`` or ``error`` has been sent)."""
        await self._no_turns.wait()

    async def drain(self, grace_seconds: float) -> None:
        """Refuse new upgrades, let turns finish and pending session writes land (at most ``grace_seconds``),
        then close every socket (1001)."""
        self.draining = True
        try:
            async with asyncio.timeout(grace_seconds):
                await self._idle.wait()
        except TimeoutError:
            pass
        async with asyncio.TaskGroup() as group:
            for connection in list(self.connections):
                group.create_task(connection.shutdown(1001, "server shutdown"))
