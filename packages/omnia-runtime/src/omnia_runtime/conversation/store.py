"""Conversation state per session id: in-memory (default) or Redis, both with a TTL.

Redis key layout (one key per session, documented because other tools may read it)::

    <prefix>session:<session id>   a JSON array of messages ({role, content, tool_calls?, tool_call_id?, ...})

The key's TTL is set again on every write (``SET ... EX``); ``exists`` uses ``EXISTS`` and so does not extend
it (the resume probe must not keep a session alive). The prefix defaults to ``omnia:runtime:``. Histories are
trimmed to the most recent ``max_messages`` entries. Only this module imports ``redis``.
"""

import json
import time
from collections.abc import Sequence
from typing import Protocol

from omnia_runtime.errors import ConfigError, StoreUnavailableError
from omnia_runtime.providers.base import Message


class ConversationStore(Protocol):
    async def load(self, session_id: str) -> list[Message] | None:
        """The session's history, or ``None`` for an unknown (or expired) session."""
        ...

    async def save(self, session_id: str, messages: Sequence[Message]) -> None: ...

    async def exists(self, session_id: str) -> bool: ...

    async def count(self) -> int:
        """How many sessions are stored (best effort; used for the active-sessions gauge)."""
        ...

    async def aclose(self) -> None: ...


def _trim(messages: Sequence[Message], limit: int) -> list[Message]:
    kept = list(messages[-limit:])
    while kept and kept[0].role == "tool":  # never start with a tool result whose call was cut off
        kept.pop(0)
    return kept


class MemoryConversationStore:
    """Process-local store with a TTL refreshed on every write.

    A read looks at its own session's expiry only; expired sessions are swept at most once a second (and on
    ``count``), so a turn never pays for scanning every stored session.
    """

    SWEEP_INTERVAL = 1.0

    def __init__(self, ttl: float, max_messages: int = 500) -> None:
        self._ttl = ttl
        self._max = max_messages
        self._data: dict[str, tuple[float, list[Message]]] = {}
        self._next_sweep = 0.0

    def _sweep(self, now: float, *, force: bool = False) -> None:
        if not force and now < self._next_sweep:
            return
        self._next_sweep = now + self.SWEEP_INTERVAL
        for key in [k for k, (expires, _) in self._data.items() if expires <= now]:
            del self._data[key]

    def _live(self, session_id: str) -> list[Message] | None:
        now = time.monotonic()
        self._sweep(now)
        entry = self._data.get(session_id)
        if entry is None or entry[0] <= now:
            return None
        return entry[1]

    async def load(self, session_id: str) -> list[Message] | None:
        messages = self._live(session_id)
        return list(messages) if messages is not None else None

    async def save(self, session_id: str, messages: Sequence[Message]) -> None:
        self._data[session_id] = (time.monotonic() + self._ttl, _trim(messages, self._max))

    async def exists(self, session_id: str) -> bool:
        return self._live(session_id) is not None

    async def count(self) -> int:
        self._sweep(time.monotonic(), force=True)
        return len(self._data)

    async def aclose(self) -> None:
        self._data.clear()


class RedisConversationStore:
    """Redis-backed store (``redis.asyncio``); see the module docstring for the key layout."""

    def __init__(self, url: str, *, ttl: float, prefix: str = "omnia:runtime:", max_messages: int = 500) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url, socket_timeout=5.0, socket_connect_timeout=5.0)
        self._ttl = max(1, int(ttl))
        self._prefix = prefix
        self._max = max_messages

    def key(self, session_id: str) -> str:
        return f"{self._prefix}session:{session_id}"

    async def ping(self) -> None:
        import redis

        try:
            await self._redis.ping()  # pyright: ignore[reportGeneralTypeIssues]
        except (redis.RedisError, OSError) as e:
            raise ConfigError(
                f"cannot reach the Redis context store: {type(e).__name__}; check OMNIA_CONTEXT_URL"
            ) from e

    async def load(self, session_id: str) -> list[Message] | None:
        import redis

        try:
            raw = await self._redis.get(self.key(session_id))
        except (redis.RedisError, OSError) as e:
            raise StoreUnavailableError(f"the Redis context store failed: {type(e).__name__}") from e
        if raw is None:
            return None
        return [Message.from_json(item) for item in json.loads(raw)]

    async def save(self, session_id: str, messages: Sequence[Message]) -> None:
        import redis

        payload = json.dumps([m.to_json() for m in _trim(messages, self._max)])
        try:
            await self._redis.set(self.key(session_id), payload, ex=self._ttl)
        except (redis.RedisError, OSError) as e:
            raise StoreUnavailableError(f"the Redis context store failed: {type(e).__name__}") from e

    async def exists(self, session_id: str) -> bool:
        import redis

        try:
            return bool(await self._redis.exists(self.key(session_id)))
        except (redis.RedisError, OSError) as e:
            raise StoreUnavailableError(f"the Redis context store failed: {type(e).__name__}") from e

    async def count(self) -> int:
        total = 0
        async for _ in self._redis.scan_iter(match=f"{self._prefix}session:*", count=500):
            total += 1
            if total >= 100_000:
                break
        return total

    async def aclose(self) -> None:
        await self._redis.aclose()
