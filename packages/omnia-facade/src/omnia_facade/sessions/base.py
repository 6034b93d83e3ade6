"""The session store interface shared by the in-memory and Redis implementations."""

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from omnia_facade.protocol import now_rfc3339

Role = Literal["user", "assistant", "system"]


@dataclass(frozen=True)
class Session:
    """Metadata of one conversation (the message log is kept apart)."""

    id: str
    agent_name: str
    namespace: str
    user_id: str = ""
    created_at: str = field(default_factory=now_rfc3339)
    updated_at: str = field(default_factory=now_rfc3339)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Session":
        return cls(
            id=str(data["id"]),
            agent_name=str(data.get("agent_name", "")),
            namespace=str(data.get("namespace", "")),
            user_id=str(data.get("user_id", "")),
            created_at=str(data.get("created_at", "")),
            updated_at=str(data.get("updated_at", "")),
        )


@dataclass(frozen=True)
class StoredMessage:
    """One entry of a session's message log."""

    role: Role
    content: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    timestamp: str = field(default_factory=now_rfc3339)
    metadata: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "StoredMessage":
        role = data.get("role")
        if role not in ("user", "assistant", "system"):
            role = "system"
        return cls(
            role=role,
            content=str(data.get("content", "")),
            id=str(data.get("id", "")),
            timestamp=str(data.get("timestamp", "")),
            metadata={str(k): str(v) for k, v in dict(data.get("metadata") or {}).items()},
        )


class SessionStore(Protocol):
    """Sessions with a TTL that every read or write refreshes.

    Implementations raise ``SessionStoreError`` when the backing store cannot be reached.
    """

    async def create(self, session: Session) -> Session: ...

    async def get(self, session_id: str) -> Session | None:
        """The session, with its TTL refreshed; ``None`` when unknown or expired."""
        ...

    async def append(self, session_id: str, message: StoredMessage) -> None:
        """Add a message to the log (capped), refreshing the TTL."""
        ...

    async def messages(self, session_id: str, limit: int = 100) -> list[StoredMessage]:
        """The newest ``limit`` messages, oldest first."""
        ...

    async def delete(self, session_id: str) -> None: ...

    async def ping(self) -> bool:
        """True when the store answers (used by ``/readyz``)."""
        ...

    async def aclose(self) -> None: ...
