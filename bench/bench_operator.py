"""Operator scale: the real operator process against the fake Kubernetes API with a per-request latency.

The fake API (``omnia_operator.testing.fakekube.FakeKubeAPI``, serving our CRDs with schema validation) runs
in this process with ``faults.latency`` on every request; the operator runs as its own process
(``python -m omnia_operator run --kube-url ...``), so its CPU and memory are its own. Measured:

1. *create*: time from the first create of N agents' objects (each with its own PromptPack + ConfigMap and
   Provider; a shared credential Secret; the first M agents share a ToolRegistry) to every agent having its
   Deployment, Service and a status for its generation, and every PromptPack and Provider a status phase;
2. *fan-out*: time from editing the ToolRegistry the M agents use to all their ``<agent>-tools`` ConfigMaps
   carrying the edit;
3. *idle*: API writes while the settled operator runs for a while (steady state), and during a full resync:
   a fresh operator process started against the settled objects (every object listed and reconciled);
4. peak RSS (VmHWM) of the first operator process.

No baseline exists for these (ratio n/a); the lower bound the latency alone sets is printed for reference.
"""

import argparse
import asyncio
import base64
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from processes import free_port, peak_rss_kib
from report import Figure, print_figures

from omnia_operator.api.crds import all_crds
from omnia_operator.kube import resources as kinds
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.resources import ResourceKind
from omnia_operator.settings import OperatorSettings
from omnia_operator.testing.fakekube import FakeKubeAPI

NS = "bench"
API = "omnia.altairalabs.ai/v1alpha1"
REGISTRY = "shared-tools"
CREATE_CONCURRENCY = 32
POLL_S = 0.2
READY_TIMEOUT_S = 60.0
QUIET_S = 2.0
DEFAULT_WORKERS: int = OperatorSettings.model_fields["workers"].default  # the operator's own default
PACK = {
    "id": "bench",
    "name": "Bench",
    "version": "1.0.0",
    "template_engine": {"version": "v1", "syntax": "{{variable}}"},
    "prompts": {
        "default": {"id": "default", "name": "Default", "version": "1.0.0", "system_template": "You benchmark."}
    },
}


def manifest(kind: str, name: str, spec: dict[str, Any], api_version: str = API) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": NS}, "spec": spec}


def registry(description: str) -> dict[str, Any]:
    handler = {
        "name": "weather",
        "type": "http",
        "tool": {"name": "get_weather", "description": description, "inputSchema": {"type": "object"}},
        "httpConfig": {"endpoint": "http://weather.bench:8080/", "method": "POST"},
    }
    return manifest("ToolRegistry", REGISTRY, {"handlers": [handler]})


def agent_objects(index: int, with_tools: bool) -> list[tuple[ResourceKind, dict[str, Any]]]:
    name = f"agent-{index}"
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{name}-pack-src", "namespace": NS},
        "data": {"pack.json": json.dumps({**PACK, "id": f"pack-{index}"})},
    }
    pack = manifest(
        "PromptPack",
        f"{name}-pack",
        {"version": "1.0.0", "source": {"type": "configmap", "configMapRef": {"name": f"{name}-pack-src"}}},
    )
    provider = manifest(
        "Provider",
        f"{name}-llm",
        {"type": "openai", "model": "gpt-4o-mini", "credential": {"secretRef": {"name": "llm-key"}}},
    )
    spec: dict[str, Any] = {
        "promptPackRef": {"name": f"{name}-pack"},
        "providers": [{"name": "default", "providerRef": {"name": f"{name}-llm"}}],
        "facades": [{"type": "websocket", "port": 8080}],
    }
    if with_tools:
        spec["toolRegistryRef"] = {"name": REGISTRY}
    return [
        (kinds.CONFIG_MAP, config_map),
        (kinds.PROMPT_PACK, pack),
        (kinds.PROVIDER, provider),
        (kinds.AGENT_RUNTIME, manifest("AgentRuntime", name, spec)),
    ]


class Watcher:
    """Cheap checks on the fake's store (no request, no copy) while the operator works."""

    def __init__(self, api: FakeKubeAPI) -> None:
        self._api = api

    def get(self, kind: ResourceKind, name: str) -> dict[str, Any] | None:
        info = self._api.store.kinds.lookup(kind.group, kind.version, kind.plural)
        if info is None:
            raise LookupError(f"the fake does not serve {kind.kind}")
        return self._api.store.peek(info, NS, name)

    def agent_done(self, index: int) -> bool:
        name = f"agent-{index}"
        agent = self.get(kinds.AGENT_RUNTIME, name)
        if agent is None or self.get(kinds.DEPLOYMENT, name) is None or self.get(kinds.SERVICE, name) is None:
            return False
        status = agent.get("status") or {}
        if status.get("observedGeneration") != agent["metadata"].get("generation"):
            return False
        pack = self.get(kinds.PROMPT_PACK, f"{name}-pack") or {}
        provider = self.get(kinds.PROVIDER, f"{name}-llm") or {}
        return bool((pack.get("status") or {}).get("phase") and (provider.get("status") or {}).get("phase"))

    def tools_mention(self, index: int, text: str) -> bool:
        config_map = self.get(kinds.CONFIG_MAP, f"agent-{index}-tools")
        return config_map is not None and any(text in value for value in (config_map.get("data") or {}).values())


async def until(check: Callable[[], bool], what: str, timeout_s: float) -> float:
    """Seconds until ``check()`` holds; ``TimeoutError`` naming ``what`` after ``timeout_s``."""
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        await asyncio.sleep(POLL_S)
    return time.perf_counter() - start


async def until_quiet(api: FakeKubeAPI, timeout_s: float) -> float:
    """Wait until the API has received no request for ``QUIET_S``; returns when the last request came."""
    start = time.perf_counter()
    seen, last_change = len(api.request_log), time.perf_counter()
    while time.perf_counter() - last_change < QUIET_S:
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError(f"the operator kept calling the API for {timeout_s:.0f} s")
        await asyncio.sleep(POLL_S)
        if len(api.request_log) != seen:
            seen, last_change = len(api.request_log), time.perf_counter()
    return last_change - start


class OperatorProcess:
    """``python -m omnia_operator run`` against the fake; ``async with`` starts it and waits for /readyz."""

    def __init__(self, url: str, workers: int, profile: Path | None = None) -> None:
        self._url = url
        self._workers = workers
        self._profile = profile
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> "OperatorProcess":
        health = free_port()
        profiler = ["-m", "cProfile", "-o", str(self._profile)] if self._profile else []
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, *profiler, "-m", "omnia_operator", "run", "--kube-url", self._url,
            "--health-port", str(health), "--metrics-port", "0",
            "--workers", str(self._workers), "--log-level", "error",
            env={**os.environ, "OMNIA_OPERATOR_BIND_HOST": "127.0.0.1"},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            await self._wait_ready(health)
        except BaseException:
            await self.__aexit__()  # never leave an orphaned operator behind
            raise
        return self

    async def _wait_ready(self, health: int) -> None:
        assert self.process is not None
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            deadline = time.perf_counter() + READY_TIMEOUT_S
            while time.perf_counter() < deadline:
                if self.process.returncode is not None:
                    raise RuntimeError(f"the operator exited with {self.process.returncode}")
                try:
                    async with http.get(f"http://127.0.0.1:{health}/readyz") as response:
                        if response.status == 200:
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass  # not listening yet, or its loop is busy with the initial lists
                await asyncio.sleep(0.05)
        raise TimeoutError("the operator did not become ready")

    async def __aexit__(self, *_exc: object) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), timeout=30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


async def create_all(kube: KubeClient, objects: list[tuple[ResourceKind, dict[str, Any]]]) -> None:
    limit = asyncio.Semaphore(CREATE_CONCURRENCY)

    async def create(kind: ResourceKind, obj: dict[str, Any]) -> None:
        async with limit:
            await kube.create(kind, obj)

    async with asyncio.TaskGroup() as group:
        for kind, obj in objects:
            group.create_task(create(kind, obj))


def breakdown(records: list[Any], top: int = 12) -> list[str]:
    """The most frequent requests as 'count verb resource[/subresource]' lines, and the total."""
    counts: dict[str, int] = {}
    for record in records:
        what = f"{record.verb} {record.resource}" + (f"/{record.subresource}" if record.subresource else "")
        counts[what] = counts.get(what, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])[:top]
    return [f"{count:7d} {what}" for what, count in ranked] + [f"{len(records):7d} in all"]


async def measure(
    agents: int, fanout: int, latency_s: float, workers: int, timeout_s: float, profile: Path | None
) -> list[Figure]:
    async with FakeKubeAPI(crds=all_crds(), bookmark_interval=None) as api, KubeClient.for_url(api.url) as kube:
        watcher = Watcher(api)
        key = base64.b64encode(b"sk-bench").decode()
        secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "data": {"OPENAI_API_KEY": key}}
        await kube.create(kinds.SECRET, {**secret, "metadata": {"name": "llm-key", "namespace": NS}})
        await kube.create(kinds.TOOL_REGISTRY, registry("Weather, version 1"))
        api.faults.latency = latency_s
        async with OperatorProcess(api.url, workers, profile) as operator:
            assert operator.process is not None
            writes_before, converge_first = api.write_count, len(api.request_log)
            start = time.perf_counter()
            objects = [obj for index in range(agents) for obj in agent_objects(index, index < fanout)]
            await create_all(kube, objects)
            created_s = time.perf_counter() - start
            await until(lambda: all(watcher.agent_done(i) for i in range(agents)), "every agent", timeout_s)
            converge_s = time.perf_counter() - start
            converge_writes = api.write_count - writes_before - len(objects)
            await until_quiet(api, timeout_s)
            converge_requests = breakdown(api.request_log[converge_first:])

            edited = registry("Weather, version 2")
            current = await kube.get(kinds.TOOL_REGISTRY, REGISTRY, NS)
            edited["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            start = time.perf_counter()
            await kube.replace(kinds.TOOL_REGISTRY, edited)
            fanout_s = await until(
                lambda: all(watcher.tools_mention(i, "version 2") for i in range(fanout)), "the fan-out", timeout_s
            )
            await until_quiet(api, timeout_s)

            writes_before = api.write_count
            await asyncio.sleep(QUIET_S * 2)
            steady_writes = api.write_count - writes_before
            peak_kib = peak_rss_kib(operator.process.pid)
        writes_before, requests_before = api.write_count, len(api.request_log)
        start = time.perf_counter()
        async with OperatorProcess(api.url, workers):
            ready_s = time.perf_counter() - start
            resync_s = ready_s + await until_quiet(api, timeout_s)
            resync_writes = api.write_count - writes_before
            resync_requests = len(api.request_log) - requests_before
            for record in api.request_log[requests_before:]:
                if record.verb in ("create", "update", "patch", "delete"):
                    print(f"resync write: {record.verb} {record.resource}/{record.subresource} {record.name}")
    per_agent = converge_writes / agents
    print("requests until the operator settled after the creates (bench's own creates included):")
    for line in converge_requests:
        print(f"  {line}")
    print(
        f"{agents} agents ({len(objects)} objects created in {created_s:.1f} s), ToolRegistry shared by {fanout}, "
        f"{latency_s * 1000:g} ms per API request, {workers} workers per kind"
    )
    print(
        f"operator writes while converging: {converge_writes} ({per_agent:.1f} per agent; at {latency_s * 1000:g} ms "
        f"each over {workers} workers that alone is >= {per_agent * agents * latency_s / workers:.1f} s); "
        f"full resync: {resync_requests} requests"
    )
    return [
        Figure(f"operator_converge_{agents}_agents", converge_s, "s", target="< 30 s for 1,000"),
        Figure(f"operator_fanout_{fanout}_agents", fanout_s, "s", target="< 5 s for 500"),
        Figure("operator_idle_writes_steady", steady_writes, "writes", target="0"),
        Figure("operator_idle_writes_full_resync", resync_writes, "writes", target="0"),
        Figure("operator_full_resync_time", resync_s, "s"),
        Figure("operator_peak_rss", peak_kib / 1024, "MiB"),
    ]


def main() -> None:
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)  # watches cut when an operator stops
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="300 agents, fan-out to 150, under a minute (default)")
    mode.add_argument("--full", action="store_true", help="1,000 agents, fan-out to 500 (the targets' scale)")
    mode.add_argument("--tiny", action="store_true", help="20 agents, fan-out to 10 (smoke test)")
    parser.add_argument("--agents", type=int, help="override the number of agents (at most 5,000)")
    parser.add_argument("--latency-ms", type=float, default=2.0, help="fake API latency per request (default 2)")
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help=f"operator workers per kind (default {DEFAULT_WORKERS})"
    )
    parser.add_argument("--profile", type=Path, help="write a cProfile of the first operator process to this file")
    options = parser.parse_args()
    agents, timeout_s = (20, 60.0) if options.tiny else (1000, 300.0) if options.full else (300, 120.0)
    if options.agents:
        agents = max(2, min(options.agents, 5000))
    fanout = agents // 2
    figures = asyncio.run(
        measure(agents, fanout, options.latency_ms / 1000, options.workers, timeout_s, options.profile)
    )
    print_figures("operator scale (fake API)", figures)


if __name__ == "__main__":
    main()
