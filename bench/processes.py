"""Start the processes a benchmark measures, wait until they answer, and stop them cleanly."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http_ok(url: str, process: subprocess.Popen[bytes], timeout_s: float = START_TIMEOUT_S) -> float:
    """Poll ``url`` until it answers 200; return the seconds it took. Fails fast if the process exits."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout_s:
        if process.poll() is not None:
            raise RuntimeError(f"process {process.args!r} exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.005)
    raise TimeoutError(f"{url} did not answer 200 within {timeout_s}s")


def wait_port(port: int, process: subprocess.Popen[bytes], timeout_s: float = START_TIMEOUT_S) -> None:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout_s:
        if process.poll() is not None:
            raise RuntimeError(f"process {process.args!r} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.005)
    raise TimeoutError(f"port {port} did not open within {timeout_s}s")


@contextlib.contextmanager
def running(args: list[str], *, env: Mapping[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` for the duration of the block; SIGTERM, then SIGKILL after 10 s.

    The process's stderr goes to a temporary file (a pipe nobody reads would fill up and stall a server
    that logs under load); its last lines are printed when the process did not exit cleanly.
    """
    full_env = {**os.environ, **(env or {})}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(args, env=full_env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.seek(0)
            lines = log.read().decode(errors="replace").splitlines()
            warnings = [line for line in lines if "WARNING" in line or "ERROR" in line or "Traceback" in line]
            if process.returncode not in (0, -signal.SIGTERM) or warnings:
                name = " ".join(args[-3:])
                print(f"note: {name} exited {process.returncode}; {len(warnings)} warning/error log lines, last:")
                for line in (warnings or lines)[-5:]:
                    print(f"  {line[:300]}")


@contextlib.contextmanager
def baseline_server(chunks: int) -> Iterator[str]:
    """The bare uvicorn endpoint; yields its WebSocket URL."""
    with baseline_process(chunks) as (url, _pid):
        yield url


@contextlib.contextmanager
def baseline_process(chunks: int, *extra_args: str) -> Iterator[tuple[str, int]]:
    """The bare uvicorn endpoint with more baseline_server.py options; yields its WebSocket URL and pid."""
    port = free_port()
    args = [sys.executable, str(BENCH_DIR / "baseline_server.py"), "--port", str(port), "--chunks", str(chunks)]
    with running([*args, *extra_args]) as process:
        wait_port(port, process)
        yield f"ws://127.0.0.1:{port}/ws", process.pid


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def peak_rss_kib(pid: int) -> int:
    """Peak resident set size (VmHWM) of a running process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for pid {pid}")
