"""`omnia-operator dev` driven as a user would: it starts an agent from examples/quickstart, prints where to
connect, holds a conversation, and stops both processes on Ctrl-C; a taken port or a broken manifest fails fast."""

import asyncio
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from agentstack import REPO, free_port, open_session, turn

pytestmark = pytest.mark.integration
START_TIMEOUT_S = 60.0


def _dev_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "omnia_operator", "dev", *args]


def _free_pair() -> int:
    """A port P with P+1 free too (dev uses the next port for health)."""
    for _ in range(100):
        port = free_port()
        with socket.socket() as a, socket.socket() as b:
            try:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no two adjacent free ports")


def _two_pairs() -> tuple[int, int]:
    """Facade and runtime ports for dev: each with its next port free, and not overlapping."""
    for _ in range(100):
        facade, runtime = _free_pair(), _free_pair()
        if abs(facade - runtime) > 1:
            return facade, runtime
    raise AssertionError("no two separate pairs of free ports")


@pytest.fixture(scope="module")
def dev_ports() -> tuple[int, int]:
    return _two_pairs()


def _start_dev(work_dir: Path, port: int, runtime_port: int, *extra: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Start `omnia-operator dev` on the quickstart and read its output up to the banner's last line."""
    argv = _dev_argv(
        "-f", str(REPO / "examples" / "quickstart"),
        "--port", str(port),
        "--runtime-port", str(runtime_port),
        "--work-dir", str(work_dir),
        *extra,
    )  # fmt: skip
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Press Ctrl-C"):
            break
    if not lines or not lines[-1].startswith("Press Ctrl-C"):
        _stop(process)
        pytest.fail("omnia-operator dev did not start:\n" + "".join(lines))
    return process, lines


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


@pytest.fixture(scope="module")
def dev_agent(
    tmp_path_factory: pytest.TempPathFactory, dev_ports: tuple[int, int]
) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    port, runtime_port = dev_ports
    process, lines = _start_dev(tmp_path_factory.mktemp("dev"), port, runtime_port)
    try:
        yield process, lines
    finally:
        _stop(process)


async def test_dev_prints_where_to_connect_and_the_agent_answers(
    dev_agent: tuple[subprocess.Popen[str], list[str]], dev_ports: tuple[int, int]
) -> None:
    _, lines = dev_agent
    port, _ = dev_ports
    url = f"ws://127.0.0.1:{port}/ws?agent=quickstart"
    banner = "".join(lines)
    assert url in banner
    assert f"http://127.0.0.1:{port}/" in banner
    assert f'omnia-facade chat "{url}"' in banner
    ws, session_id = await open_session(url)
    async with ws:
        result = await turn(ws, "hello there", session_id=session_id)
    assert result.errors == []
    assert "hello there" in result.content, "the quickstart's mock provider answers about the message"
    async with httpx.AsyncClient(timeout=5) as client:
        page = await client.get(f"http://127.0.0.1:{port}/")
    assert page.status_code == 200
    assert "<html" in page.text.lower()


async def test_dev_stops_both_processes_on_ctrl_c(
    dev_agent: tuple[subprocess.Popen[str], list[str]], dev_ports: tuple[int, int]
) -> None:
    process, _ = dev_agent
    port, runtime_port = dev_ports
    process.send_signal(signal.SIGINT)
    code = await asyncio.to_thread(process.wait, 30)
    assert code == 0
    for taken in (port, port + 1, runtime_port, runtime_port + 1):
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", taken))  # raises if a child still listens


def test_dev_fails_clearly_when_a_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run(
            _dev_argv("--runtime-port", str(port), "--port", str(_free_pair()), "--work-dir", str(tmp_path)),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert f"port {port}" in done.stderr
    assert "already in use" in done.stderr


def test_dev_fails_clearly_when_a_manifest_is_wrong(tmp_path: Path) -> None:
    broken = tmp_path / "agent.yaml"
    broken.write_text(
        "apiVersion: omnia.altairalabs.ai/v1alpha1\nkind: AgentRuntime\nmetadata: {name: lonely}\n"
        "spec:\n  promptPackRef: {name: missing-pack}\n  facades: [{type: websocket, port: 8080}]\n"
    )
    done = subprocess.run(
        _dev_argv("-f", str(broken), "--port", str(free_port()), "--work-dir", str(tmp_path / "work")),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "PromptPackNotFound" in done.stderr
    assert "missing-pack" in done.stderr


async def test_dev_keeps_sessions_in_redis_when_given_a_url(tmp_path: Path, redis_url: str) -> None:
    port, runtime_port = _two_pairs()
    process, _ = _start_dev(tmp_path, port, runtime_port, "--redis-url", redis_url)
    try:
        url = f"ws://127.0.0.1:{port}/ws?agent=quickstart"
        ws, session_id = await open_session(url)
        async with ws:
            result = await turn(ws, "remember me", session_id=session_id)
        assert result.errors == []
        host, redis_port = redis_url.removeprefix("redis://").split("/")[0].split(":")
        with socket.create_connection((host, int(redis_port)), timeout=5) as sock:
            key = f"omnia:runtime:session:{session_id}"
            sock.sendall(f"*2\r\n$6\r\nEXISTS\r\n${len(key)}\r\n{key}\r\n".encode())
            assert sock.recv(16) == b":1\r\n", "the runtime wrote the conversation to the given Redis"
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.to_thread(process.wait, 30)
        _stop(process)
