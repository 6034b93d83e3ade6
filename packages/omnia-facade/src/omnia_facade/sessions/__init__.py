"""Session stores: where the facade keeps session metadata and the message log."""

from omnia_facade.sessions.base import Session, SessionStore, StoredMessage
from omnia_facade.sessions.memory import InMemorySessionStore
from omnia_facade.sessions.redis_store import RedisSessionStore

__all__ = ["InMemorySessionStore", "RedisSessionStore", "Session", "SessionStore", "StoredMessage"]
