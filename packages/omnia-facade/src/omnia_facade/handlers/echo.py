"""``OMNIA_HANDLER_MODE=echo``: the reply is the user's own text."""

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager

from omnia_facade.errors import ToolFailedError
from omnia_facade.handlers.base import TextDelta, TurnDone, TurnEvent, TurnRequest, TurnStream


class _EchoTurn:
    def __init__(self, request: TurnRequest) -> None:
        self._request = request

    async def events(self) -> AsyncGenerator[TurnEvent, None]:
        text = self._request.content or " ".join(part.text or "" for part in self._request.parts if part.text)
        if text:
            yield TextDelta(text)
        yield TurnDone(content=text)

    async def send_tool_result(self, call_id: str, result_json: str, *, rejected: bool, reason: str = "") -> None:
        raise ToolFailedError(f"no pending tool call with id {call_id!r}")


class EchoHandler:
    name = "echo"

    @asynccontextmanager
    async def turn(self, request: TurnRequest) -> AsyncIterator[TurnStream]:
        yield _EchoTurn(request)

    async def has_conversation(self, session_id: str) -> bool | None:
        return None

    def session_closed(self, session_id: str) -> None:
        return None

    async def ready(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None
