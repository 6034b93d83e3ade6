"""Redis session store (``OMNIA_SESSION_TYPE=redis``), on ``redis.asyncio``.

Key layout (``prefix`` defaults to ``omnia:facade:``, set with ``OMNIA_SESSION_KEY_PREFIX``):

- ``{prefix}session:{id}`` — string, JSON of the session metadata
  (``id``, ``agent_name``, ``namespace``, ``user_id``, ``created_at``, ``updated_at``).
- ``{prefix}session:{id}:messages`` — list, one JSON object per message, appended with RPUSH
  (``id``, ``role`` user|assistant|system, ``content``, ``timestamp``, ``metadata``), trimmed to the newest
  ``max_messages`` entries with LTRIM.

Both keys carry the session TTL, re-armed (EXPIRE) on every read and write, so an active session never expires
and an abandoned one disappears ``ttl`` after its last use. Each operation is one pipelined round trip. Every
Redis call has a timeout (socket timeouts on the client); failures surface as ``SessionStoreError``.
"""

import json
import logging
from collections.abc import Awaitable
from typing import Any, cast

import redis.asyncio as redis
from redis.exceptions import RedisError

from omnia_facade.errors import ConfigError, SessionStoreError
from omnia_facade.protocol import now_rfc3339
from omnia_facade.sessions.base import Session, StoredMessage

logger = logging.getLogger(__name__)


class RedisSessionStore:
    def __init__(
        self,
        url: str,
        *,
        ttl: float,
        prefix: str = "omnia:facade:",
        max_messages: int = 1000,
        timeout: float = 5.0,
    ) -> None:
        try:
            self._redis: redis.Redis = redis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True
            )
        except ValueError as e:
            raise ConfigError("OMNIA_SESSION_STORE_URL is not a valid redis URL (expected redis://host:port/db)") from e
        self._ttl = max(1, int(ttl))
        self._prefix = prefix
        self._max_messages = max_messages

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}session:{session_id}"

    def _log_key(self, session_id: str) -> str:
        return f"{self._prefix}session:{session_id}:messages"

    async def create(self, session: Session) -> Session:
        key = self._key(session.id)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(key, json.dumps(session.to_json()), ex=self._ttl, nx=True)
                pipe.get(key)
                pipe.expire(self._log_key(session.id), self._ttl)
                _, stored, _ = await pipe.execute()
        except RedisError as e:
            raise SessionStoreError(f"session store unreachable while creating a session: {type(e).__name__}") from e
        return self._decode(stored) or session

    async def get(self, session_id: str) -> Session | None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(self._key(session_id))
                pipe.expire(self._key(session_id), self._ttl)
                pipe.expire(self._log_key(session_id), self._ttl)
                stored, _, _ = await pipe.execute()
        except RedisError as e:
            raise SessionStoreError(f"session store unreachable while reading a session: {type(e).__name__}") from e
        return self._decode(stored)

    async def append(self, session_id: str, message: StoredMessage) -> None:
        key, log_key = self._key(session_id), self._log_key(session_id)
        try:
            stored = await cast(Awaitable[Any], self._redis.get(key))
            session = self._decode(stored)
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.rpush(log_key, json.dumps(message.to_json()))
                pipe.ltrim(log_key, -self._max_messages, -1)
                pipe.expire(log_key, self._ttl)
                if session is not None:
                    updated = {**session.to_json(), "updated_at": now_rfc3339()}
                    pipe.set(key, json.dumps(updated), ex=self._ttl)
                await pipe.execute()
        except RedisError as e:
            raise SessionStoreError(f"session store unreachable while saving a message: {type(e).__name__}") from e

    async def messages(self, session_id: str, limit: int = 100) -> list[StoredMessage]:
        try:
            raw = await cast(Awaitable[list[str]], self._redis.lrange(self._log_key(session_id), -limit, -1))
        except RedisError as e:
            raise SessionStoreError(f"session store unreachable while reading messages: {type(e).__name__}") from e
        out: list[StoredMessage] = []
        for item in raw:
            try:
                out.append(StoredMessage.from_json(json.loads(item)))
            except (ValueError, TypeError, AttributeError):
                logger.warning("skipping a malformed message in the log of session %s", session_id)
        return out

    async def delete(self, session_id: str) -> None:
        try:
            await self._redis.delete(self._key(session_id), self._log_key(session_id))
        except RedisError as e:
            raise SessionStoreError(f"session store unreachable while deleting a session: {type(e).__name__}") from e

    async def ping(self) -> bool:
        try:
            return bool(await cast(Awaitable[Any], self._redis.ping()))
        except RedisError:
            return False

    async def aclose(self) -> None:
        await self._redis.aclose()

    def _decode(self, stored: object) -> Session | None:
        if not isinstance(stored, str):
            return None
        try:
            return Session.from_json(json.loads(stored))
        except (ValueError, KeyError, TypeError):
            logger.warning("ignoring malformed session metadata in redis")
            return None
