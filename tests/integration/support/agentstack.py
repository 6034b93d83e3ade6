"""Shared machinery of the end-to-end tests: manifests of a tool-using agent, real tool servers, the agent's pod
run as local processes (from `omnia-operator render` output), and a small WebSocket client.

The pod is built exactly from what the operator renders: the Deployment's containers become processes running
their images' commands, with the containers' env and their volumes written to a temp dir
(`omnia_operator.dev.pod.PodMaterializer`). Only listen addresses and ports are changed, so several pods fit on
one machine.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from websockets.asyncio.client import ClientConnection, connect

from omnia_operator.dev.pod import LocalContainer, PodMaterializer
from omnia_operator.resolve.source import KubeObject, StaticObjectSource

REPO = Path(__file__).resolve().parents[3]
MCP_SERVER = Path(__file__).resolve().parents[1] / "servers" / "mcp_tools.py"
READY_TIMEOUT_S = 30.0
FRAME_TIMEOUT_S = 20.0

MOCK_SCENARIOS = {
    "defaultResponse": "Hello from the mock agent.",
    "scenarios": {
        "tools": {
            "match": ["weather"],
            "turns": {
                1: {
                    "response": "Let me look that up.",
                    "tool_calls": [
                        {"name": "get_weather", "arguments": {"city": "Paris"}},
                        {"name": "lookup_doc", "arguments": {"topic": "umbrellas"}},
                    ],
                },
                2: "It is sunny in Paris and the umbrella page is ready.",
            },
        },
        "colour": {
            "match": ["colour"],
            "turns": {
                1: {"tool_calls": [{"name": "pick_color", "arguments": {"palette": "warm"}}]},
                2: "Nice colour choice.",
            },
        },
    },
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------ tool servers


@dataclass
class HttpToolServer:
    url: str
    calls: list[dict[str, list[str]]] = field(default_factory=list)


# ------------------------------------------------------------------ manifests


def agent_manifests(directory: Path, http_url: str, mcp_calls: Path, *, name: str = "e2e-agent") -> Path:
    """A directory of YAML a user would apply: mock Provider, pack, ToolRegistry (HTTP, MCP stdio, client tool)."""
    directory.mkdir(parents=True, exist_ok=True)
    mock_config = directory.parent / f"{name}-mock-scenarios.yaml"
    mock_config.write_text(yaml.safe_dump(MOCK_SCENARIOS))
    pack = {
        "id": name,
        "name": "End-to-end agent",
        "version": "1.0.0",
        "template_engine": {"version": "v1", "syntax": "{{variable}}"},
        "prompts": {
            "default": {
                "id": "default",
                "name": "Default",
                "version": "1.0.0",
                "system_template": "You test the whole stack.",
                "tool_policy": {"tool_choice": "auto", "max_rounds": 3, "max_tool_calls_per_turn": 5},
            }
        },
    }
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "omnia.altairalabs.ai/v1alpha1",
            "kind": "Provider",
            "metadata": {
                "name": "e2e-mock",
                "annotations": {"omnia.altairalabs.ai/mock-config-path": str(mock_config)},
            },
            "spec": {"type": "mock", "capabilities": ["text", "streaming", "tools"]},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"{name}-pack"},
            "data": {"pack.json": json.dumps(pack)},
        },
        {
            "apiVersion": "omnia.altairalabs.ai/v1alpha1",
            "kind": "PromptPack",
            "metadata": {"name": name},
            "spec": {
                "version": "1.0.0",
                "source": {"type": "configmap", "configMapRef": {"name": f"{name}-pack"}},
            },
        },
        {
            "apiVersion": "omnia.altairalabs.ai/v1alpha1",
            "kind": "ToolRegistry",
            "metadata": {"name": f"{name}-tools"},
            "spec": {
                "handlers": [
                    {
                        "name": "weather",
                        "type": "http",
                        "timeout": "10s",
                        "tool": {
                            "name": "get_weather",
                            "description": "Current weather for a city",
                            "inputSchema": {
                                "type": "object",
                                "properties": {"city": {"type": "string"}},
                                "required": ["city"],
                            },
                        },
                        "httpConfig": {"endpoint": http_url, "method": "GET", "queryParams": ["city"]},
                    },
                    {
                        "name": "docs",
                        "type": "mcp",
                        "timeout": "20s",
                        "mcpConfig": {
                            "transport": "stdio",
                            "command": sys.executable,
                            "args": [str(MCP_SERVER), str(mcp_calls)],
                        },
                    },
                    {
                        "name": "browser",
                        "type": "client",
                        "tool": {
                            "name": "pick_color",
                            "description": "Ask the user for a colour",
                            "inputSchema": {"type": "object", "properties": {"palette": {"type": "string"}}},
                        },
                        "clientConfig": {"consentMessage": "Pick a colour?"},
                    },
                ]
            },
        },
        {
            "apiVersion": "omnia.altairalabs.ai/v1alpha1",
            "kind": "AgentRuntime",
            "metadata": {"name": name},
            "spec": {
                "promptPackRef": {"name": name},
                "providers": [{"name": "default", "providerRef": {"name": "e2e-mock"}}],
                "toolRegistryRef": {"name": f"{name}-tools"},
                "facades": [{"type": "websocket", "port": 8080, "handler": "runtime"}],
                "context": {"type": "memory", "ttl": "1h"},
            },
        },
    ]
    (directory / "agent.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return directory


def render(manifests: Path) -> list[KubeObject]:
    """The children `omnia-operator render` prints for the manifests (run as the CLI a user runs)."""
    done = subprocess.run(
        [sys.executable, "-m", "omnia_operator", "render", "-f", str(manifests)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def _load_yaml_dir(directory: Path) -> list[KubeObject]:
    objects: list[KubeObject] = []
    for path in sorted(directory.rglob("*.yaml")):
        objects.extend(d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict) and "kind" in d)
    return objects


def pod_containers(manifests: Path, work_dir: Path) -> dict[str, LocalContainer]:
    """The rendered Deployment's containers as local processes-to-be, their volumes written under work_dir."""
    children = render(manifests)
    objects = [*_load_yaml_dir(manifests), *children]
    for obj in objects:
        obj.setdefault("metadata", {}).setdefault("namespace", "default")
    source = StaticObjectSource(objects)
    deployment = next(c for c in children if c["kind"] == "Deployment")
    materializer = PodMaterializer(source.get, work_dir, {}, "default")
    containers = asyncio.run(materializer.containers(deployment))
    return {c.name: c for c in containers}


# ------------------------------------------------------------------ processes


class AgentProcess:
    """One container of the pod as a child process on loopback ports; restartable."""

    def __init__(self, container: LocalContainer, env: dict[str, str], health_port: int, log: Path) -> None:
        self.container = container
        self.env = env
        self.health_port = health_port
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.container.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.container.name} exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.health_port}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"{self.container.name} not ready: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("OMNIA_")}


@dataclass
class Pod:
    runtime: AgentProcess
    facades: list[AgentProcess]
    agent: str

    def ws_url(self, index: int = 0) -> str:
        return f"ws://127.0.0.1:{self.facades[index].env['OMNIA_FACADE_PORT']}/ws?agent={self.agent}"

    def stop(self) -> None:
        for facade in self.facades:
            facade.stop()
        self.runtime.stop()


def start_pod(
    containers: dict[str, LocalContainer],
    log_dir: Path,
    *,
    agent: str,
    facades: int = 1,
    redis_url: str | None = None,
    media_dir: Path | None = None,
) -> Pod:
    """The pod's runtime and `facades` facade processes; only addresses, ports and stores are changed."""
    log_dir.mkdir(parents=True, exist_ok=True)
    runtime_port, runtime_health = free_port(), free_port()
    runtime_env = {
        **_base_env(),
        **containers["runtime"].env,
        "OMNIA_BIND_HOST": "127.0.0.1",
        "OMNIA_GRPC_PORT": str(runtime_port),
        "OMNIA_HEALTH_PORT": str(runtime_health),
        "OMNIA_LOG_FORMAT": "text",
    }
    if redis_url:
        runtime_env.update(OMNIA_CONTEXT_TYPE="redis", OMNIA_CONTEXT_URL=redis_url)
    runtime = AgentProcess(containers["runtime"], runtime_env, runtime_health, log_dir / "runtime.log")
    facade_procs: list[AgentProcess] = []
    for index in range(facades):
        port, health = free_port(), free_port()
        env = {
            **_base_env(),
            **containers["facade"].env,
            "OMNIA_BIND_HOST": "127.0.0.1",
            "OMNIA_FACADE_PORT": str(port),
            "OMNIA_HEALTH_PORT": str(health),
            "OMNIA_RUNTIME_ADDRESS": f"127.0.0.1:{runtime_port}",
            "OMNIA_FACADE_ALLOW_UNAUTHENTICATED": "true",
            "OMNIA_FACADE_DRAIN_TIMEOUT": "1s",
            "OMNIA_LOG_FORMAT": "text",
        }
        if redis_url:
            env.update(OMNIA_SESSION_TYPE="redis", OMNIA_SESSION_STORE_URL=redis_url)
        if media_dir is not None:
            env.update(OMNIA_MEDIA_STORAGE_TYPE="local", OMNIA_MEDIA_STORAGE_PATH=str(media_dir))
        facade_procs.append(AgentProcess(containers["facade"], env, health, log_dir / f"facade-{index}.log"))
    pod = Pod(runtime, facade_procs, agent)
    try:
        runtime.start()
        for facade in facade_procs:
            facade.start()
    except BaseException:
        pod.stop()
        raise
    return pod


# ------------------------------------------------------------------ WebSocket client


@dataclass
class Turn:
    session_id: str | None
    chunks: list[str]
    done: dict[str, Any] | None
    errors: list[dict[str, Any]]
    tool_calls: list[dict[str, Any]]

    @property
    def content(self) -> str:
        return str((self.done or {}).get("content", ""))


async def receive(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(FRAME_TIMEOUT_S):
        return json.loads(await ws.recv())


async def turn(
    ws: ClientConnection,
    text: str | None = None,
    *,
    session_id: str | None = None,
    message: dict[str, Any] | None = None,
    tool_answer: Any = None,
) -> Turn:
    """Send one message and read frames until `done` or `error`; answers client tool calls with tool_answer."""
    frame = message or {"type": "message", "content": text}
    if session_id:
        frame["session_id"] = session_id
    await ws.send(json.dumps(frame))
    result = Turn(session_id, [], None, [], [])
    while True:
        got = await receive(ws)
        kind = got.get("type")
        if kind == "connected":
            result.session_id = got.get("session_id", result.session_id)
        elif kind == "chunk":
            result.chunks.append(got.get("content", ""))
        elif kind == "tool_call":
            result.tool_calls.append(got["tool_call"])
            answer = {"call_id": got["tool_call"]["id"], "result": tool_answer}
            await ws.send(json.dumps({"type": "tool_result", "tool_result": answer}))
        elif kind == "done":
            result.done = got
            return result
        elif kind == "error":
            result.errors.append(got["error"])
            return result


async def open_session(url: str) -> tuple[ClientConnection, str]:
    """Connect and read the `connected` frame; (socket, session id)."""
    ws = await connect(url, open_timeout=10)
    hello = await receive(ws)
    assert hello["type"] == "connected", hello
    return ws, str(hello["session_id"])
