"""``OMNIA_HANDLER_MODE=demo``: canned, keyword-driven replies streamed word by word (no runtime needed).

- a greeting or "help" → a short list of what the demo can do;
- "weather" → a client-side ``get_weather`` tool call; the reply quotes the client's result (or its refusal);
- anything else → a fixed "demo mode" reply that quotes the input.
"""

import asyncio
import json
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager

from omnia_facade.errors import ToolFailedError
from omnia_facade.handlers.base import ClientToolCall, TextDelta, TurnDone, TurnEvent, TurnRequest, TurnStream

GREETINGS = ("hello", "hi", "hey", "help")
HELP_TEXT = (
    "Hello! This is the Omnia demo handler. Try asking about the weather to see a client-side tool call, "
    "or type anything and I will quote it back."
)


class _DemoTurn:
    def __init__(self, request: TurnRequest, delay: float, tool_timeout: float) -> None:
        self._request = request
        self._delay = delay
        self._tool_timeout = tool_timeout
        self._pending: dict[str, asyncio.Future[tuple[str, bool, str]]] = {}

    async def _words(self, text: str) -> AsyncIterator[TurnEvent]:
        words = text.split(" ")
        for index, word in enumerate(words):
            if index and self._delay:
                await asyncio.sleep(self._delay)
            yield TextDelta(word if index == 0 else " " + word)

    async def events(self) -> AsyncGenerator[TurnEvent, None]:
        text = self._request.content.strip()
        lowered = text.lower()
        if "weather" in lowered:
            call_id = "call_" + uuid.uuid4().hex[:12]
            future: asyncio.Future[tuple[str, bool, str]] = asyncio.get_running_loop().create_future()
            self._pending[call_id] = future
            yield ClientToolCall(id=call_id, name="get_weather", arguments={"location": "here"})
            reply = await self._tool_reply(call_id, future)
        elif lowered.split(" ", 1)[0].strip("!.,?") in GREETINGS:
            reply = HELP_TEXT
        else:
            reply = f'Demo mode: you said "{text}".'
        async for delta in self._words(reply):
            yield delta
        yield TurnDone(content=reply)

    async def _tool_reply(self, call_id: str, future: "asyncio.Future[tuple[str, bool, str]]") -> str:
        try:
            result, rejected, reason = await asyncio.wait_for(future, self._tool_timeout)
        except TimeoutError:
            return "The weather tool did not answer in time."
        finally:
            self._pending.pop(call_id, None)
        if rejected:
            return f"The weather tool was declined: {reason or 'no reason given'}."
        try:
            value = json.loads(result)
        except ValueError:
            value = result
        return f"The weather tool says: {value}"

    async def send_tool_result(self, call_id: str, result_json: str, *, rejected: bool, reason: str = "") -> None:
        future = self._pending.get(call_id)
        if future is None or future.done():
            raise ToolFailedError(f"no pending tool call with id {call_id!r}")
        future.set_result((result_json, rejected, reason))


class DemoHandler:
    name = "demo"

    def __init__(self, *, delay: float = 0.025, tool_timeout: float = 60.0) -> None:
        self._delay = delay
        self._tool_timeout = tool_timeout

    @asynccontextmanager
    async def turn(self, request: TurnRequest) -> AsyncIterator[TurnStream]:
        yield _DemoTurn(request, self._delay, self._tool_timeout)

    async def has_conversation(self, session_id: str) -> bool | None:
        return None

    def session_closed(self, session_id: str) -> None:
        return None

    async def ready(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None
