"""The baseline: a bare uvicorn WebSocket endpoint that streams the chunks itself.

It speaks just enough of the Omnia protocol for the load generator (a ``connected`` greeting, then
``message`` in, ``chunk``* then ``done`` out, one frame per chunk, JSON with a timestamp), with no gateway,
no gRPC and no runtime behind it: what a perfect facade + runtime could not beat.
Run: ``python bench/baseline_server.py --port 8090 --chunks 200``.
"""

import argparse
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import uvicorn

DELTA = "0123456789 abcdefghij"  # with the JSON envelope and timestamp a frame is ~73 bytes


def make_app(chunks: int) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "websocket":
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        greeting = {"type": "connected", "session_id": uuid.uuid4().hex, "timestamp": datetime.now(UTC).isoformat()}
        await send({"type": "websocket.send", "text": json.dumps(greeting)})
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                return
            for _ in range(chunks):
                stamp = datetime.now(UTC).isoformat()
                frame = json.dumps({"type": "chunk", "content": DELTA, "timestamp": stamp})
                await send({"type": "websocket.send", "text": frame})
            done = json.dumps({"type": "done", "content": DELTA * chunks, "timestamp": datetime.now(UTC).isoformat()})
            await send({"type": "websocket.send", "text": done})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Bare uvicorn WebSocket endpoint streaming N chunks per turn.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--chunks", type=int, default=200)
    parser.add_argument("--ws", default="websockets", help="uvicorn WebSocket implementation (default websockets)")
    parser.add_argument("--ping-interval", type=float, default=20.0, help="server ping interval, s (default 20)")
    options = parser.parse_args()
    uvicorn.run(
        make_app(options.chunks),
        host=options.host,
        port=options.port,
        loop="uvloop",
        ws=options.ws,
        ws_per_message_deflate=False,
        ws_ping_interval=options.ping_interval,
        ws_ping_timeout=options.ping_interval * 2,
        backlog=4096,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
