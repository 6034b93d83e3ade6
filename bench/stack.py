"""Run a real agent (omnia-runtime + omnia-facade as two processes, wired as in the pod) for a benchmark.

The runtime uses the mock provider with a scenario that streams ``chunks`` deltas per turn; sessions are
in memory; the facade runs without auth (loopback only).
"""

import contextlib
import json
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from baseline_server import DELTA
from processes import free_port, running, wait_http_ok

PACK = {
    "id": "bench",
    "name": "Bench",
    "version": "1.0.0",
    "template_engine": {"version": "v1", "syntax": "{{variable}}"},
    "prompts": {
        "default": {
            "id": "default",
            "name": "Default",
            "version": "1.0.0",
            "system_template": "You are a benchmark.",
        }
    },
}


@dataclass
class AgentStack:
    ws_url: str
    grpc_address: str
    runtime_pid: int
    facade_pid: int
    runtime_ready_s: float
    facade_ready_s: float


def mock_response(chunks: int) -> str:
    """A text the mock provider streams as exactly ``chunks`` deltas of the baseline's size.

    The mock streams word by word (the first word bare, every later one with its leading space), so the text
    is ``chunks`` space-free words of ``len(DELTA) - 1`` characters: every delta but the first is as long as
    the baseline's ``DELTA``.
    """
    word = DELTA.replace(" ", "-")[: len(DELTA) - 1]
    return " ".join([word] * chunks)


def write_config(directory: Path, chunks: int) -> tuple[Path, Path]:
    pack = directory / "pack.json"
    pack.write_text(json.dumps(PACK))
    mock = directory / "mock.yaml"
    mock.write_text(yaml.safe_dump({"defaultResponse": mock_response(chunks)}))
    return pack, mock


def profiler(profile_dir: Path | None, name: str) -> list[str]:
    if profile_dir is None:
        return []
    profile_dir.mkdir(parents=True, exist_ok=True)
    return ["-m", "cProfile", "-o", str(profile_dir / f"{name}.prof")]


@contextlib.contextmanager
def agent_stack(
    *,
    chunks: int = 200,
    extra_env: dict[str, str] | None = None,
    facade_env: dict[str, str] | None = None,
    profile_dir: Path | None = None,
) -> Iterator[AgentStack]:
    """Runtime + facade; ``extra_env`` goes to both processes, ``facade_env`` to the facade only.

    With ``profile_dir`` each process runs under cProfile and writes ``runtime.prof`` / ``facade.prof`` there
    when it stops.
    """
    with tempfile.TemporaryDirectory(prefix="omnia-bench-") as tmp:
        pack, mock = write_config(Path(tmp), chunks)
        grpc_port, runtime_health, facade_port, facade_health = (free_port() for _ in range(4))
        common = {
            "OMNIA_AGENT_NAME": "bench",
            "OMNIA_NAMESPACE": "bench",
            "OMNIA_BIND_HOST": "127.0.0.1",
            "LOG_LEVEL": "warning",
        }
        runtime_env = {
            **common,
            "OMNIA_GRPC_PORT": str(grpc_port),
            "OMNIA_HEALTH_PORT": str(runtime_health),
            "OMNIA_PROMPTPACK_PATH": str(pack),
            "OMNIA_TOOLS_CONFIG_PATH": str(Path(tmp) / "no-tools.yaml"),
            "OMNIA_PROVIDER_TYPE": "mock",
            "OMNIA_MOCK_CONFIG": str(mock),
            **(extra_env or {}),
        }
        facade_env = {
            **common,
            "OMNIA_FACADE_PORT": str(facade_port),
            "OMNIA_HEALTH_PORT": str(facade_health),
            "OMNIA_RUNTIME_ADDRESS": f"127.0.0.1:{grpc_port}",
            "OMNIA_FACADE_ALLOW_UNAUTHENTICATED": "true",
            **(extra_env or {}),
            **(facade_env or {}),
        }
        runtime_cmd = [sys.executable, *profiler(profile_dir, "runtime"), "-m", "omnia_runtime", "serve"]
        facade_cmd = [sys.executable, *profiler(profile_dir, "facade"), "-m", "omnia_facade", "serve"]
        with running(runtime_cmd, env=runtime_env) as runtime:
            runtime_ready = wait_http_ok(f"http://127.0.0.1:{runtime_health}/readyz", runtime)
            with running(facade_cmd, env=facade_env) as facade:
                facade_ready = wait_http_ok(f"http://127.0.0.1:{facade_health}/readyz", facade)
                yield AgentStack(
                    ws_url=f"ws://127.0.0.1:{facade_port}/ws?agent=bench",
                    grpc_address=f"127.0.0.1:{grpc_port}",
                    runtime_pid=runtime.pid,
                    facade_pid=facade.pid,
                    runtime_ready_s=runtime_ready,
                    facade_ready_s=facade_ready,
                )
