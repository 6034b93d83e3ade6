"""``omnia-facade chat``: a terminal client for an agent's WebSocket.

Reads lines from stdin; each line is one user message. Replies stream to stdout; a client-side ``tool_call`` is
shown and answered from the terminal (a JSON value, or plain text sent as a string; an empty line declines it).
``/quit`` or end of input hangs up. ``--session`` resumes a conversation by id.
"""

import asyncio
import json
import sys
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

RECEIVE_TIMEOUT_S = 300.0


async def _read_line(prompt: str) -> str | None:
    if prompt:
        print(prompt, end="", flush=True)
    line = await asyncio.to_thread(sys.stdin.readline)
    return None if line == "" else line.rstrip("\n")


def _tool_answer(call_id: str, line: str) -> dict[str, Any]:
    if not line.strip():
        return {"type": "tool_call_nack", "tool_call_nack": {"call_id": call_id, "reason": "declined by the user"}}
    try:
        value: Any = json.loads(line)
    except ValueError:
        value = line
    return {"type": "tool_result", "tool_result": {"call_id": call_id, "result": value}}


async def _turn(ws: ClientConnection, text: str, session_id: str | None) -> str | None:
    message: dict[str, Any] = {"type": "message", "content": text}
    if session_id:
        message["session_id"] = session_id
    await ws.send(json.dumps(message))
    while True:
        async with asyncio.timeout(RECEIVE_TIMEOUT_S):
            raw = await ws.recv()
        frame = json.loads(raw)
        kind = frame.get("type")
        if kind == "connected":
            session_id = frame.get("session_id", session_id)
        elif kind == "chunk":
            print(frame.get("content", ""), end="", flush=True)
        elif kind == "done":
            print(flush=True)
            return session_id
        elif kind == "tool_call":
            call = frame.get("tool_call", {})
            print(f"\n[tool call {call.get('name')} {json.dumps(call.get('arguments', {}))}]", flush=True)
            line = await _read_line("tool result> ")
            await ws.send(json.dumps(_tool_answer(str(call.get("id", "")), line or "")))
        elif kind == "error":
            error = frame.get("error", {})
            print(f"\n[error {error.get('code')}: {error.get('message')}]", flush=True)
            return session_id


async def run_chat(url: str, *, session: str | None, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    try:
        async with connect(url, additional_headers=headers, open_timeout=10, max_size=None) as ws:
            async with asyncio.timeout(10):
                hello = json.loads(await ws.recv())
            session_id = session or hello.get("session_id")
            print(f"[connected, session {session_id}]", flush=True)
            while True:
                line = await _read_line("you> " if sys.stdin.isatty() else "")
                if line is None or line.strip() == "/quit":
                    await ws.send(json.dumps({"type": "hangup"}))
                    return 0
                if line.strip():
                    session_id = await _turn(ws, line, session_id)
    except (OSError, ConnectionClosed, TimeoutError) as e:
        print(f"[connection failed: {e}]", file=sys.stderr)
        return 1
