"""One client process of bench_connections: holds ``--count`` idle WebSocket sessions open.

Each session connects, reads the ``connected`` greeting, sends one message and reads until ``done``; then it
sits idle (the websockets library answers the server's pings in the background). The process talks to its
parent over stdin/stdout, one line each way:

- prints ``opened <ok> <failed>`` once every session has exchanged its message (or failed to);
- on ``check`` prints ``open <n>``: how many sessions are still open;
- on ``close`` (or end of input) closes every session and exits.

Only loopback URLs are accepted; the file descriptor limit is raised to the hard limit.
"""

import argparse
import asyncio
import json
import resource
import sys
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.protocol import State

STEP_TIMEOUT_S = 60.0
OPEN_CONCURRENCY = 100


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def one_session(url: str, limit: asyncio.Semaphore) -> ClientConnection | None:
    """A session that has exchanged one message, or None when it could not."""
    async with limit:
        try:
            ws = await connect(url, compression=None, open_timeout=STEP_TIMEOUT_S, ping_interval=None)
        except (OSError, TimeoutError, ValueError) as e:
            print(f"connect failed: {e}", file=sys.stderr)
            return None
        try:
            async with asyncio.timeout(STEP_TIMEOUT_S):
                await ws.recv()  # connected
                await ws.send(json.dumps({"type": "message", "content": "hello"}))
                while json.loads(await ws.recv()).get("type") not in ("done", "error"):
                    pass
        except Exception as e:
            print(f"session failed: {e!r}", file=sys.stderr)
            await ws.close()
            return None
        return ws


async def hold(url: str, count: int) -> None:
    limit = asyncio.Semaphore(OPEN_CONCURRENCY)
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one_session(url, limit)) for _ in range(count)]
    sessions = [ws for ws in (task.result() for task in tasks) if ws is not None]
    print(f"opened {len(sessions)} {count - len(sessions)}", flush=True)
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
            if line == "check":
                print(f"open {sum(1 for ws in sessions if ws.state is State.OPEN)}", flush=True)
            elif line in ("close", ""):
                return
    finally:
        async with asyncio.TaskGroup() as group:
            for ws in sessions:
                group.create_task(ws.close())


def main() -> None:
    parser = argparse.ArgumentParser(description="Hold idle WebSocket sessions open for bench_connections.")
    parser.add_argument("url", help="ws://127.0.0.1:PORT/ws... (loopback only)")
    parser.add_argument("--count", type=int, required=True, help="sessions to open (at most 15,000)")
    options = parser.parse_args()
    if urlsplit(options.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("only loopback URLs are allowed")
    if not 0 < options.count <= 15_000:
        parser.error("--count must be between 1 and 15,000")
    raise_fd_limit(options.count + 100)
    asyncio.run(hold(options.url, options.count))


if __name__ == "__main__":
    main()
