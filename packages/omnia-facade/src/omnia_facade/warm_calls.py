"""A bounded, process-wide set of runtime calls opened ahead of a session's next turn ("warm calls").

Opening a ``Converse`` stream costs the facade and the runtime about half a millisecond before the user's
message can even be written (call set-up, initial metadata, the runtime's handler start). A warm call pays that
while the user is still reading the previous answer, so the next turn only writes its message.

Rules that keep this safe:

- **Bounded.** At most ``capacity`` warm calls exist in the process, one per session; a session that finds the
  pool full simply opens its next call on demand. 10,000 idle WebSocket connections never hold 10,000 idle gRPC
  streams.
- **Short-lived.** A warm call is closed ``max_age`` seconds after it was opened (a timer, not a task). The
  runtime waits a bounded time (30 s) for the first message of a stream; ``max_age`` stays well below that, so a
  warm call is never one the runtime is about to give up on.
- **Bound to its headers.** Identity travels as call metadata, which is sent when the call opens. A warm call
  remembers the headers it was opened with and is used only by a turn that would send exactly the same headers
  (request id aside: the warm call's own, fresh request id becomes the turn's); anything else discards it.
- **Never trusted.** A warm call that has already ended (runtime restart, channel reconnect) is discarded when
  taken; the caller falls back to a fresh call when a warm one fails before the runtime answered.

This module knows nothing of gRPC: it holds anything with ``cancel()`` and ``done()``.
"""

import asyncio
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

Headers = tuple[tuple[str, str], ...]


class Cancellable(Protocol):
    def cancel(self) -> bool: ...

    def done(self) -> bool: ...


CallT = TypeVar("CallT", bound=Cancellable)


@dataclass(slots=True)
class WarmCall(Generic[CallT]):
    """An open call, the headers it was opened with (request id excluded) and the request id it carries.

    ``first_answer``, when set, is a task already reading the call's first answer (the runtime's hello), so the
    turn that takes the call does not wait for that read; it ends when the call is cancelled.
    """

    call: CallT
    headers: Headers
    request_id: str
    first_answer: asyncio.Task[Any] | None = field(default=None, repr=False)
    expiry: asyncio.TimerHandle | None = field(default=None, repr=False)


class WarmCallPool(Generic[CallT]):
    """At most ``capacity`` warm calls, one per session, each closed after ``max_age`` seconds unused."""

    def __init__(self, *, capacity: int, max_age: float) -> None:
        if capacity < 0:
            raise ValueError("capacity must be 0 (no warm calls) or more")
        if max_age <= 0:
            raise ValueError("max_age must be positive")
        self._capacity = capacity
        self._max_age = max_age
        self._calls: dict[str, WarmCall[CallT]] = {}
        self._closed = False

    def __len__(self) -> int:
        return len(self._calls)

    @property
    def capacity(self) -> int:
        return self._capacity

    def has_room_for(self, session_id: str) -> bool:
        """Whether ``put`` would keep a warm call for ``session_id`` now."""
        return not self._closed and session_id not in self._calls and len(self._calls) < self._capacity

    def put(self, session_id: str, warm: WarmCall[CallT]) -> bool:
        """Keep ``warm`` for the session's next turn; when there is no room it is cancelled and False returned."""
        if not self.has_room_for(session_id):
            warm.call.cancel()
            return False
        warm.expiry = asyncio.get_running_loop().call_later(self._max_age, self._expire, session_id, warm)
        self._calls[session_id] = warm
        return True

    def take(self, session_id: str, headers: Headers) -> WarmCall[CallT] | None:
        """The session's warm call if it is still open and was opened with ``headers``; it leaves the pool.

        A warm call that does not qualify is cancelled (it could never be used by this session again).
        """
        warm = self._calls.pop(session_id, None)
        if warm is None:
            return None
        self._stop_timer(warm)
        if warm.headers != headers or warm.call.done():
            warm.call.cancel()
            return None
        return warm

    def discard(self, session_id: str) -> None:
        """Close the session's warm call, if any (its connection went away)."""
        warm = self._calls.pop(session_id, None)
        if warm is not None:
            self._stop_timer(warm)
            warm.call.cancel()

    def close(self) -> None:
        """Close every warm call and keep no new ones."""
        self._closed = True
        for session_id in list(self._calls):
            self.discard(session_id)

    def _expire(self, session_id: str, warm: WarmCall[CallT]) -> None:
        if self._calls.get(session_id) is warm:
            del self._calls[session_id]
            warm.call.cancel()

    @staticmethod
    def _stop_timer(warm: WarmCall[CallT]) -> None:
        if warm.expiry is not None:
            warm.expiry.cancel()
            warm.expiry = None
