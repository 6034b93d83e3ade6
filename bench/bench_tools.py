"""Tool call overhead: the runtime's HTTP tool path against a bare ``httpx`` call to the same loopback server.

Both clients keep their connection alive and call ``POST /tool`` on a bare uvicorn backend (its own process)
with the same JSON arguments, one call at a time, interleaved (bare, adapter, bare, adapter...) so machine
noise hits both alike. The adapter path is what a model's tool call runs: ``ToolRouter.execute`` (lookup,
circuit breaker, metrics, span) → ``HttpToolAdapter`` (request shaping, auth headers, ``x-omnia-*`` metadata,
response decoding and mapping) → httpx. The figure is the p50 difference.
"""

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from processes import BENCH_DIR, free_port, running, wait_port
from report import Figure, print_figures

from omnia_runtime.tools.base import ToolCallContext
from omnia_runtime.tools.config import parse_tools_config
from omnia_runtime.tools.router import ToolRouter

ARGUMENTS = {"city": "Paris", "unit": "celsius"}
CALL_TIMEOUT_S = 10.0


def tools_config(url: str) -> dict[str, object]:
    return {
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
                        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
                    },
                },
                "httpConfig": {"endpoint": url, "method": "POST"},
            }
        ]
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(url: str, calls: int) -> tuple[list[float], list[float]]:
    router = ToolRouter()
    await router.start(parse_tools_config(tools_config(url)))
    context = ToolCallContext(session_id="bench-session", call_id="call-1", agent_name="bench", namespace="bench")
    bare: list[float] = []
    adapter: list[float] = []
    try:
        async with httpx.AsyncClient(timeout=CALL_TIMEOUT_S) as client:
            for index in range(calls + 20):  # the first 20 rounds warm both connections up
                start = time.perf_counter()
                response = await client.post(url, json=ARGUMENTS)
                response.raise_for_status()
                response.json()
                middle = time.perf_counter()
                result = await router.execute("get_weather", ARGUMENTS, context=context)
                end = time.perf_counter()
                if result.is_error:
                    raise RuntimeError(f"the adapter call failed: {result.content}")
                if index >= 20:
                    bare.append(middle - start)
                    adapter.append(end - middle)
    finally:
        await router.aclose()
    return bare, adapter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="2,000 calls each (the default)")
    mode.add_argument("--full", action="store_true", help="20,000 calls each")
    mode.add_argument("--tiny", action="store_true", help="100 calls each (smoke test)")
    options = parser.parse_args()
    calls = 100 if options.tiny else 20_000 if options.full else 2_000
    port = free_port()
    with running([sys.executable, str(BENCH_DIR / "tool_server.py"), "--port", str(port)]) as server:
        wait_port(port, server)
        bare, adapter = asyncio.run(measure(f"http://127.0.0.1:{port}/tool", calls))
    figures = []
    for q in (0.5, 0.99):
        pct = f"p{round(q * 100)}"
        b, a = percentile(bare, q) * 1000, percentile(adapter, q) * 1000
        figures.append(Figure(f"tool_call_{pct}", a, "ms", b))
        figures.append(Figure(f"tool_call_added_{pct}", a - b, "ms", target="< 0.5 ms" if q == 0.5 else ""))
    figures.append(Figure("tool_call_mean", statistics.fmean(adapter) * 1000, "ms", statistics.fmean(bare) * 1000))
    print_figures(f"HTTP tool call overhead ({calls} calls each, loopback)", figures)


if __name__ == "__main__":
    main()
