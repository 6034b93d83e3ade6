"""In-memory session store (the default): sessions live as long as the process and their TTL."""

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from omnia_facade.protocol import now_rfc3339
from omnia_facade.sessions.base import Session, StoredMessage


@dataclass
class _Entry:
    session: Session
    expires_at: float
    log: deque[StoredMessage] = field(default_factory=deque)


class InMemorySessionStore:
    """A dict of sessions with lazy expiry; bounded by ``max_sessions`` (oldest expiry evicted first)."""

    def __init__(
        self,
        *,
        ttl: float,
        max_messages: int = 1000,
        max_sessions: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._ttl = ttl
        self._max_messages = max_messages
        self._max_sessions = max_sessions
        self._entries: dict[str, _Entry] = {}

    def _live(self, session_id: str) -> _Entry | None:
        entry = self._entries.get(session_id)
        if entry is None:
            return None
        if entry.expires_at <= self._clock():
            del self._entries[session_id]
            return None
        entry.expires_at = self._clock() + self._ttl
        return entry

    async def create(self, session: Session) -> Session:
        existing = self._live(session.id)
        if existing is not None:
            return existing.session
        if len(self._entries) >= self._max_sessions:
            oldest = min(self._entries, key=lambda key: self._entries[key].expires_at)
            del self._entries[oldest]
        self._entries[session.id] = _Entry(
            session=session, expires_at=self._clock() + self._ttl, log=deque(maxlen=self._max_messages)
        )
        return session

    async def get(self, session_id: str) -> Session | None:
        entry = self._live(session_id)
        return None if entry is None else entry.session

    async def append(self, session_id: str, message: StoredMessage) -> None:
        entry = self._live(session_id)
        if entry is None:
            return
        entry.log.append(message)
        entry.session = replace(entry.session, updated_at=now_rfc3339())

    async def messages(self, session_id: str, limit: int = 100) -> list[StoredMessage]:
        entry = self._live(session_id)
        if entry is None:
            return []
        return list(entry.log)[-limit:]

    async def delete(self, session_id: str) -> None:
        self._entries.pop(session_id, None)

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        self._entries.clear()
