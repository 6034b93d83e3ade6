"""A connection's writes to the session store: what is saved, when, and what a failure costs.

- A new session's first message is saved by the connection before its turn (the store must know the session);
  ``settle`` lets every earlier write land first, so it never overtakes them.
- A known session's user message (``user_message``) and every reply (``reply``) are saved in the connection's
  ``SaveChain``, beside or behind the turn. The store not taking them does not fail anything: the runtime keeps
  the conversation, so a warning is logged and ``omnia_facade_session_saves_failed_total{role}`` counts it.
- Every wait for the store is bounded (``STORE_WAIT_TIMEOUT``); a store that does not keep up is reported to the
  client as ``SessionStoreError`` instead of holding the connection.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from omnia_facade.errors import FacadeError, SessionStoreError
from omnia_facade.save_chain import SaveChain
from omnia_facade.sessions.base import Session, StoredMessage
from omnia_facade.state import FacadeState

logger = logging.getLogger(__name__)

MAX_PENDING_SAVES = 16
"""Store writes a connection may have pending; beyond it the next turn waits for the store."""
STORE_WAIT_TIMEOUT = 15.0
"""How long a turn, or a closing connection, waits for the store writes before it."""


class SessionWrites:
    """The ordered store writes of one connection; ``new_session`` builds a session the store lost."""

    def __init__(self, state: FacadeState, new_session: Callable[[str], Session]) -> None:
        self._state = state
        self._new_session = new_session
        self._chain = SaveChain(limit=MAX_PENDING_SAVES, on_start=state.save_started, on_finish=state.save_finished)

    def user_message(
        self, group: asyncio.TaskGroup, session_id: str, message: Callable[[], StoredMessage]
    ) -> asyncio.Task[None]:
        """Save a known session's user message (built by ``message`` when its turn comes) after the writes before
        it; the task may be cancelled."""
        return self._chain.submit(group, lambda: self._save_user_message(session_id, message), what="a user message")

    def reply(self, group: asyncio.TaskGroup, session_id: str, content: str) -> None:
        """Save the assistant's reply after the writes before it (not when the connection is already gone)."""
        try:
            self._chain.submit(group, lambda: self._save_reply(session_id, content), what="an assistant reply")
        except RuntimeError:  # the connection's TaskGroup has finished: nothing may outlive it
            self._state.metrics.session_saves_failed_total.labels(role="assistant").inc()
            logger.warning("could not save the assistant reply of session %s: its connection is closed", session_id)

    def has_room(self) -> bool:
        """Whether another write may be queued now (``make_room`` waits until it may)."""
        return self._chain.has_room()

    async def make_room(self) -> None:
        """Until another write may be queued (``SessionStoreError`` when the store does not keep up); callers
        check ``has_room`` first, so the usual turn awaits nothing."""
        await self._bounded(self._chain.wait_for_room)

    async def settle(self) -> None:
        """Until every queued write has landed (``SessionStoreError`` when the store does not keep up)."""
        await self._bounded(self._chain.settled)

    async def drain(self) -> None:
        """Wait (bounded) for the queued writes when the connection closes; what is left is abandoned, logged."""
        await self._chain.drain(STORE_WAIT_TIMEOUT)

    async def _bounded(self, wait: Callable[[], Awaitable[None]]) -> None:
        try:
            async with asyncio.timeout(STORE_WAIT_TIMEOUT):
                await wait()
        except TimeoutError as e:
            raise SessionStoreError(
                "the session store is not keeping up with this conversation: retry the message shortly"
            ) from e

    async def _save_user_message(self, session_id: str, message: Callable[[], StoredMessage]) -> None:
        """Refresh the session in the store (re-created if it expired there) and log the user's message."""
        store = self._state.store
        entry = message()
        try:
            if await store.get(session_id) is None:
                await store.create(self._new_session(session_id))
            await store.append(session_id, entry)
        except FacadeError:
            self._state.metrics.session_saves_failed_total.labels(role="user").inc()
            logger.warning("could not save the user message of session %s", session_id)

    async def _save_reply(self, session_id: str, content: str) -> None:
        try:
            await self._state.store.append(session_id, StoredMessage(role="assistant", content=content))
        except FacadeError:
            self._state.metrics.session_saves_failed_total.labels(role="assistant").inc()
            logger.warning("could not save the assistant reply of session %s", session_id)
