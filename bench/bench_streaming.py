"""Streaming throughput (closed loop) and added latency (open loop): the full agent path against the baseline.

Full path: WebSocket clients → omnia-facade → gRPC → omnia-runtime (mock provider streaming N deltas per
turn). Baseline: a bare uvicorn WebSocket endpoint streaming the same N deltas itself, same client, same run.
Throughput is counted in *deltas* per second (the facade and runtime may pack several deltas into one frame;
the work the user sees is the text), plus turns per second.
"""

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from processes import baseline_server
from report import Figure, print_figures
from stack import agent_stack
from wsload import LoadResult, run_closed, run_open


async def closed(url: str, sessions: int, duration_s: float) -> LoadResult:
    return await run_closed(url, sessions=sessions, duration_s=duration_s)


def throughput(chunks: int, levels: list[int], duration_s: float) -> list[Figure]:
    figures: list[Figure] = []
    results: dict[tuple[str, int], LoadResult] = {}
    with baseline_server(chunks) as url:
        for sessions in levels:
            results["baseline", sessions] = asyncio.run(closed(url, sessions, duration_s))
    with agent_stack(chunks=chunks) as stack:
        for sessions in levels:
            results["omnia", sessions] = asyncio.run(closed(stack.ws_url, sessions, duration_s))
    for sessions in levels:
        base, full = results["baseline", sessions], results["omnia", sessions]
        figures.append(
            Figure(
                f"stream_deltas_per_s_{sessions}_sessions",
                full.deltas_per_s(chunks),
                "deltas/s",
                base.deltas_per_s(chunks),
                target=">= 0.60x baseline at 50 and 200 sessions" if sessions >= 50 else "",
            )
        )
        figures.append(Figure(f"stream_turns_per_s_{sessions}_sessions", full.turns_per_s, "turns/s", base.turns_per_s))
        if full.errors or base.errors:
            print(f"warning: {full.errors} omnia and {base.errors} baseline turns failed at {sessions} sessions")
    return figures


def latency(chunks: int, sessions: int, duration_s: float) -> list[Figure]:
    with baseline_server(chunks) as url:
        base_1 = asyncio.run(run_open(url, sessions=1, duration_s=duration_s, interval_s=0.05))
        base_n = asyncio.run(run_open(url, sessions=sessions, duration_s=duration_s))
    with agent_stack(chunks=chunks) as stack:
        full_1 = asyncio.run(run_open(stack.ws_url, sessions=1, duration_s=duration_s, interval_s=0.05))
        full_n = asyncio.run(run_open(stack.ws_url, sessions=sessions, duration_s=duration_s))
    figures = []
    for label, base, full in (("1_session", base_1, full_1), (f"{sessions}_turns_per_s", base_n, full_n)):
        for q in (0.5, 0.99):
            pct = f"p{round(q * 100)}"
            b, f = base.percentile("first_chunk_s", q) * 1000, full.percentile("first_chunk_s", q) * 1000
            target = ""
            if label == "1_session" and q == 0.5:
                target = "added < 1.5 ms"
            elif label != "1_session" and q == 0.99:
                target = "added < 10 ms"
            figures.append(Figure(f"ttfc_{pct}_{label}", f, "ms", b, target=target))
            figures.append(Figure(f"added_ttfc_{pct}_{label}", f - b, "ms", target=target))
            bd, fd = base.percentile("done_s", q) * 1000, full.percentile("done_s", q) * 1000
            figures.append(Figure(f"time_to_done_{pct}_{label}", fd, "ms", bd))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="short run (under 60 s; the default)")
    mode.add_argument("--full", action="store_true", help="longer run with 200 sessions")
    parser.add_argument("--tiny", action="store_true", help="smoke-test settings (seconds)")
    parser.add_argument("--chunks", type=int, default=200, help="deltas per turn (default 200)")
    options = parser.parse_args()
    if options.tiny:
        levels, duration, open_sessions, open_duration = [1, 5], 0.5, 5, 1.0
    elif options.full:
        levels, duration, open_sessions, open_duration = [1, 50, 200], 10.0, 50, 15.0
    else:
        levels, duration, open_sessions, open_duration = [1, 50, 200], 3.0, 50, 5.0
    print_figures("streaming throughput (closed loop)", throughput(options.chunks, levels, duration))
    print_figures("added latency (open loop)", latency(options.chunks, open_sessions, open_duration))


if __name__ == "__main__":
    main()
