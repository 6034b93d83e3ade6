"""``omnia-runtime serve`` as a real process: becomes ready, answers Health, stops cleanly on SIGTERM."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import grpc
import httpx

from omnia_protos.runtime.v1 import runtime_pb2, runtime_pb2_grpc


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_ready(url: str, process: subprocess.Popen[bytes]) -> httpx.Response:
    async with httpx.AsyncClient() as http, asyncio.timeout(30):
        while True:
            assert process.poll() is None, "omnia-runtime serve exited during start-up"
            try:
                response = await http.get(url)
                if response.status_code in (200, 503):
                    return response
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)


async def test_serve_becomes_ready_and_stops_on_sigterm(tmp_path: Path) -> None:
    pack = {
        "id": "proc",
        "name": "Proc",
        "version": "1.0.0",
        "template_engine": {"version": "v1", "syntax": "{{variable}}"},
        "prompts": {"main": {"id": "main", "name": "M", "version": "1.0.0", "system_template": "S"}},
    }
    (tmp_path / "pack.json").write_text(json.dumps(pack))
    grpc_port, health_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OMNIA_")},
        "OMNIA_BIND_HOST": "127.0.0.1",
        "OMNIA_GRPC_PORT": str(grpc_port),
        "OMNIA_HEALTH_PORT": str(health_port),
        "OMNIA_PROMPTPACK_PATH": str(tmp_path / "pack.json"),
        "OMNIA_TOOLS_CONFIG_PATH": str(tmp_path / "none.yaml"),
        "OMNIA_SHUTDOWN_GRACE": "1s",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "omnia_runtime", "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        ready = await wait_ready(f"http://127.0.0.1:{health_port}/readyz", process)
        assert ready.status_code == 200
        async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            health = await runtime_pb2_grpc.RuntimeServiceStub(channel).Health(runtime_pb2.HealthRequest(), timeout=10)
        assert health.healthy
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr.decode()
    assert b'"message": "stopping' in stderr
