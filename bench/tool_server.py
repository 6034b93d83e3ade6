"""A loopback HTTP tool backend for bench_tools: ``POST /tool`` answers a small JSON object.

A bare ASGI app on uvicorn (uvloop, httptools), run as its own process so its CPU is not the client's.
Run: ``python bench/tool_server.py --port 8091``.
"""

import argparse
from typing import Any

import uvicorn

BODY = b'{"temperature": 21.5, "unit": "celsius", "city": "Paris"}'


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    while (await receive()).get("more_body"):
        pass
    status = 200 if scope["path"] == "/tool" else 404
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": BODY})


def main() -> None:
    parser = argparse.ArgumentParser(description="Loopback HTTP tool backend for the tool-call benchmark.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    options = parser.parse_args()
    uvicorn.run(app, host=options.host, port=options.port, loop="uvloop", http="httptools", log_level="warning")


if __name__ == "__main__":
    main()
