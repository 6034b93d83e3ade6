import asyncio
import json
import os
import signal
import sys

import httpx
from omnia_facade_testkit import free_port, recv_json, recv_until, ws_connect


async def wait_ready(url: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(timeout=2) as http, asyncio.timeout(60):
        while True:
            assert process.returncode is None, "omnia-facade serve exited during start-up"
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)


async def test_serve_runs_both_listeners_and_exits_cleanly_on_sigterm() -> None:
    port, health = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OMNIA_")},
        "OMNIA_BIND_HOST": "127.0.0.1",
        "OMNIA_FACADE_PORT": str(port),
        "OMNIA_HEALTH_PORT": str(health),
        "OMNIA_HANDLER_MODE": "echo",
        "OMNIA_AGENT_NAME": "proc",
        "OMNIA_FACADE_ALLOW_UNAUTHENTICATED": "true",
        "OMNIA_FACADE_DRAIN_TIMEOUT": "2s",
        "OMNIA_LOG_FORMAT": "text",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "omnia_facade", "serve", env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        await wait_ready(f"http://127.0.0.1:{health}/readyz", process)
        async with ws_connect(f"ws://127.0.0.1:{port}/ws") as ws:
            hello = await recv_json(ws)
            await ws.send(json.dumps({"type": "message", "content": "over the wire"}))
            frames = await recv_until(ws, "done")
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                await ws.wait_closed()
            assert ws.close_code == 1001
        async with asyncio.timeout(30):
            _, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert hello["connected"]["capabilities"]["protocol_version"] == 1
    assert frames[-1]["content"] == "over the wire"
    assert process.returncode == 0, err.decode()
