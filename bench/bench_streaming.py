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

from baseline_server import DELTA
from grpcload import run_open_grpc
from processes import baseline_process, cpu_seconds
from report import Figure, print_figures
from stack import agent_stack, mock_response
from wsload import LoadResult, run_closed, run_open, run_open_alternating

# A closed-loop session sends ~100 turns/s, past the facade's per-connection limit (50/s, burst 100).
NO_RATE_LIMIT = {"OMNIA_FACADE_MESSAGE_RATE": "1000000", "OMNIA_FACADE_MESSAGE_BURST": "1000000"}


def measure_server(
    url: str, pids: list[int], levels: list[int], duration_s: float, open_sessions: int, open_s: float
) -> dict[str, LoadResult]:
    """The runs against one server alone: closed loop at each level, then the open loop at ``open_sessions``.

    For the closed-loop runs the server processes' CPU time (``pids``) is recorded on the result.
    """
    runs: dict[str, LoadResult] = {}
    for n in levels:
        cpu_before = [cpu_seconds(pid) for pid in pids]
        runs[f"closed_{n}"] = result = asyncio.run(run_closed(url, sessions=n, duration_s=duration_s))
        result.server_cpu_split = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
        result.server_cpu_s = sum(result.server_cpu_split)
    runs[f"open_{open_sessions}"] = asyncio.run(run_open(url, sessions=open_sessions, duration_s=open_s))
    return runs


def measure_one_session_side_by_side(base_url: str, full_url: str, open_s: float) -> tuple[LoadResult, LoadResult]:
    """The 1-session open loop (20 turns/s), baseline and full path taking turns in 1.25 s segments."""
    rounds = max(2, round(open_s / 1.25))
    base, full = asyncio.run(
        run_open_alternating([base_url, full_url], rounds=rounds, segment_s=open_s / rounds, interval_s=0.05)
    )
    return base, full


def check_payload(server: str, runs: dict[str, LoadResult], expected: int) -> None:
    """Warn when a server streamed another amount of text per turn than asked (a misconfigured mock)."""
    for run, result in runs.items():
        if result.errors:
            print(f"warning: {result.errors} {server} turns failed in {run}, first: {result.first_error}")
        sizes = {t.text_bytes for t in result.turns}
        if sizes and (min(sizes) < expected * 0.99 or max(sizes) > expected * 1.01):
            print(f"warning: {server} streamed {min(sizes)}..{max(sizes)} bytes per turn in {run}, expected {expected}")


def throughput(
    chunks: int, levels: list[int], base: dict[str, LoadResult], full: dict[str, LoadResult]
) -> list[Figure]:
    figures: list[Figure] = []
    for sessions in levels:
        b, f = base[f"closed_{sessions}"], full[f"closed_{sessions}"]
        target = ">= 0.60x baseline" if sessions >= 50 else ""
        figures.append(
            Figure(
                f"stream_deltas_per_s_{sessions}_sessions",
                f.deltas_per_s(chunks),
                "deltas/s",
                b.deltas_per_s(chunks),
                target=target,
            )
        )
        figures.append(Figure(f"stream_turns_per_s_{sessions}_sessions", f.turns_per_s, "turns/s", b.turns_per_s))
        frames = sum(t.chunk_frames for t in f.turns) / len(f.turns) if f.turns else float("nan")
        figures.append(Figure(f"stream_frames_per_turn_{sessions}_sessions", frames, "frames", float(chunks)))
        name = f"stream_server_cpu_per_delta_{sessions}_sessions"
        figures.append(Figure(name, f.server_cpu_per_delta_us(chunks), "us", b.server_cpu_per_delta_us(chunks)))
    return figures


def latency(open_sessions: int, base: dict[str, LoadResult], full: dict[str, LoadResult]) -> list[Figure]:
    figures: list[Figure] = []
    for label, run in (("1_session", "open_1"), (f"{open_sessions}_turns_per_s", f"open_{open_sessions}")):
        for q in (0.5, 0.99):
            pct = f"p{round(q * 100)}"
            b = base[run].percentile("first_chunk_s", q) * 1000
            f = full[run].percentile("first_chunk_s", q) * 1000
            target = ""
            if label == "1_session" and q == 0.5:
                target = "added < 1.5 ms"
            elif label != "1_session" and q == 0.99:
                target = "added < 10 ms"
            figures.append(Figure(f"ttfc_{pct}_{label}", f, "ms", b))
            figures.append(Figure(f"added_ttfc_{pct}_{label}", f - b, "ms", target=target))
            bd, fd = base[run].percentile("done_s", q) * 1000, full[run].percentile("done_s", q) * 1000
            figures.append(Figure(f"time_to_done_{pct}_{label}", fd, "ms", bd))
            figures.append(Figure(f"added_time_to_done_{pct}_{label}", fd - bd, "ms"))
    for q in (0.5, 0.99):
        pct = f"p{round(q * 100)}"
        b = base["open_1"].percentile("first_chunk_s", q) * 1000
        g = full["grpc_1"].percentile("first_chunk_s", q) * 1000
        f = full["open_1"].percentile("first_chunk_s", q) * 1000
        n = full["grpc_1_new_stream"].percentile("first_chunk_s", q) * 1000
        figures.append(Figure(f"ttfc_{pct}_1_session_runtime_grpc_only", g, "ms", b))
        figures.append(Figure(f"ttfc_{pct}_1_session_runtime_grpc_only_new_stream_per_turn", n, "ms", b))
        figures.append(Figure(f"added_ttfc_{pct}_1_session_facade_share", f - g, "ms"))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="short run (under 60 s; the default)")
    mode.add_argument("--full", action="store_true", help="longer run with 200 sessions")
    parser.add_argument("--tiny", action="store_true", help="smoke-test settings (seconds)")
    parser.add_argument("--chunks", type=int, default=200, help="deltas per turn (default 200)")
    parser.add_argument("--profile", type=Path, help="run runtime and facade under cProfile, write DIR/*.prof")
    options = parser.parse_args()
    if options.tiny:
        levels, duration, open_sessions, open_duration = [1, 5], 0.3, 5, 0.6
    elif options.full:
        levels, duration, open_sessions, open_duration = [1, 50, 200], 10.0, 50, 15.0
    else:
        levels, duration, open_sessions, open_duration = [1, 50, 200], 3.0, 50, 5.0
    with baseline_process(options.chunks) as (url, pid):
        base = measure_server(url, [pid], levels, duration, open_sessions, open_duration)
        # The baseline stays up (idle) for the 1-session open loop, measured side by side with the full path.
        with agent_stack(chunks=options.chunks, facade_env=NO_RATE_LIMIT, profile_dir=options.profile) as stack:
            pids = [stack.runtime_pid, stack.facade_pid]
            full = measure_server(stack.ws_url, pids, levels, duration, open_sessions, open_duration)
            base["open_1"], full["open_1"] = measure_one_session_side_by_side(url, stack.ws_url, open_duration)
            full["grpc_1"] = asyncio.run(run_open_grpc(stack.grpc_address, duration_s=open_duration, interval_s=0.05))
            full["grpc_1_new_stream"] = asyncio.run(
                run_open_grpc(stack.grpc_address, duration_s=open_duration, interval_s=0.05, warm=False)
            )
    check_payload("baseline", base, len(DELTA) * options.chunks)
    check_payload("omnia", full, len(mock_response(options.chunks)))
    print(f"{options.chunks} deltas of ~{len(DELTA)} bytes per turn; levels {levels} for {duration:g} s each; ", end="")
    print(
        f"open loop {open_duration:g} s (1 session at 20 turns/s, baseline and full path taking turns in segments; "
        f"{open_sessions} sessions at 1 turn/s each)"
    )
    for n in levels:
        run = full[f"closed_{n}"]
        deltas = len(run.turns) * options.chunks
        if deltas:
            runtime_us, facade_us = (cpu / deltas * 1e6 for cpu in run.server_cpu_split)
            print(f"server CPU per delta at {n} sessions: runtime {runtime_us:.1f} us, facade {facade_us:.1f} us")
    print_figures("streaming throughput (closed loop)", throughput(options.chunks, levels, base, full))
    print_figures("added latency (open loop)", latency(open_sessions, base, full))


if __name__ == "__main__":
    main()
