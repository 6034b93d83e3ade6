"""Test set-up shared by every suite in the repository.

- Every test starts with no ``OMNIA_*`` variables in its environment, so no test depends on
  the developer's shell.
- Tests under ``tests/integration`` are marked ``integration``; the cluster runners under
  ``tests/e2e`` (``test_*_cluster.py``) are marked ``e2e`` and run only when ``KUBECONFIG`` points
  at a real cluster. The same scenarios run against the fake API in every CI run.
- ``redis_server`` starts a real ``redis-server`` process on a free loopback port, once per
  test session; ``redis_url`` hands each test an empty database on it.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent
CONFORMANCE_DIR = REPO_ROOT.parent / "shared" / "conformance"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    has_cluster = bool(os.environ.get("KUBECONFIG"))
    skip_e2e = pytest.mark.skip(reason="e2e tests need a real cluster: set KUBECONFIG (kind, k3d) to run them")
    for item in items:
        parts = Path(str(item.fspath)).parts
        if "integration" in parts:
            item.add_marker(pytest.mark.integration)
        if "e2e" in parts and item.path.name.endswith("_cluster.py"):
            item.add_marker(pytest.mark.e2e)
        if item.get_closest_marker("e2e") and not has_cluster:
            item.add_marker(skip_e2e)


@pytest.fixture(autouse=True)
def _clean_omnia_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("OMNIA_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    """The shared conformance kit beside the checkout; tests that need it skip when it is absent."""
    if not CONFORMANCE_DIR.is_dir():
        pytest.skip(f"conformance kit not found at {CONFORMANCE_DIR} (it sits beside the checkout as ../shared)")
    return CONFORMANCE_DIR


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RedisServer:
    """A real redis-server process owned by the test session."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def flush(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(b"*1\r\n$8\r\nFLUSHALL\r\n")
            reply = sock.recv(64)
        assert reply.startswith(b"+OK"), reply


def _wait_for_redis(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with code {process.returncode} during start-up")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"*1\r\n$4\r\nPING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"redis-server did not answer on port {port} within {timeout}s")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run `make setup` (it installs Debian's redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="omnia-redis-") as workdir:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for_redis(port, process)
            yield RedisServer(port=port, process=process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """URL of a real Redis with an empty database for this test."""
    redis_server.flush()
    return redis_server.url
