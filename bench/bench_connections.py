"""Idle connections: many WebSocket sessions held open against one facade process, heartbeats on.

Each session connects, gets its ``connected`` frame, exchanges one message (a full turn through the runtime)
and then stays idle while the server pings it. Client sessions are spread over several client processes
(``ws_idle_client.py``) so the client side is not one process's file descriptors or CPU. Measured on the
server process: RSS growth per connection, total RSS, CPU spent while idle (the heartbeats: % of one core),
and the share of sessions still open after the idle window. The baseline is the bare uvicorn endpoint
(same WebSocket implementation, same ping interval, same sessions and message) in the same run.
"""

import argparse
import contextlib
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from processes import BENCH_DIR, baseline_process, cpu_seconds, rss_kib
from report import Figure, print_figures
from stack import agent_stack

WS_IMPLEMENTATION = "websockets-sansio"  # what the facade runs (omnia_facade.server.websocket_config)


@dataclass
class IdleResult:
    opened: int
    failed: int
    still_open: int
    rss_before_kib: int
    rss_after_kib: int
    idle_cpu_share: float
    open_s: float

    def rss_per_connection_kib(self) -> float:
        return (self.rss_after_kib - self.rss_before_kib) / self.opened if self.opened else float("nan")


@contextlib.contextmanager
def clients(url: str, total: int, processes: int) -> Iterator[list[subprocess.Popen[str]]]:
    counts = [total // processes + (1 if i < total % processes else 0) for i in range(processes)]
    started: list[subprocess.Popen[str]] = []
    try:
        for count in counts:
            started.append(
                subprocess.Popen(
                    [sys.executable, str(BENCH_DIR / "ws_idle_client.py"), url, "--count", str(count)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
            )
        yield started
    finally:
        for process in started:
            with contextlib.suppress(BrokenPipeError, OSError):
                assert process.stdin is not None
                process.stdin.write("close\n")
                process.stdin.flush()
        for process in started:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def ask(process: subprocess.Popen[str], command: str | None, expect: str) -> list[int]:
    """Send ``command`` (if any) to a client and read its answer line ``<expect> <numbers>``."""
    assert process.stdin is not None
    assert process.stdout is not None
    if command:
        process.stdin.write(command + "\n")
        process.stdin.flush()
    line = process.stdout.readline().split()
    if not line or line[0] != expect:
        raise RuntimeError(f"client answered {line!r}, expected {expect!r} (did it crash?)")
    return [int(value) for value in line[1:]]


def hold_idle(url: str, server_pid: int, total: int, processes: int, idle_s: float) -> IdleResult:
    rss_before = rss_kib(server_pid)
    start = time.perf_counter()
    with clients(url, total, processes) as started:
        answers = [ask(process, None, "opened") for process in started]
        open_s = time.perf_counter() - start
        time.sleep(1.0)  # let the server finish the turns' bookkeeping before the idle window
        rss_after = rss_kib(server_pid)
        cpu_before = cpu_seconds(server_pid)
        time.sleep(idle_s)
        idle_cpu = (cpu_seconds(server_pid) - cpu_before) / idle_s
        still_open = sum(ask(process, "check", "open")[0] for process in started)
    opened = sum(a[0] for a in answers)
    return IdleResult(opened, sum(a[1] for a in answers), still_open, rss_before, rss_after, idle_cpu, open_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="2,000 sessions, 5 s pings, 12 s idle (the default)")
    mode.add_argument("--full", action="store_true", help="10,000 sessions, 5 s pings, 20 s idle")
    mode.add_argument("--tiny", action="store_true", help="50 sessions, 1 s pings, 2 s idle (smoke test)")
    parser.add_argument("--sessions", type=int, help="override the number of sessions (at most 15,000)")
    options = parser.parse_args()
    if options.tiny:
        total, processes, ping_s, idle_s = 50, 1, 1.0, 2.0
    elif options.full:
        total, processes, ping_s, idle_s = 10_000, 4, 5.0, 20.0
    else:
        total, processes, ping_s, idle_s = 2_000, 2, 5.0, 12.0
    if options.sessions:
        total = max(1, min(options.sessions, 15_000))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the servers inherit it
    if hard < total + 200:
        print(f"warning: RLIMIT_NOFILE hard limit {hard} is below {total} sessions; expect failures")
    ping_args = ("--ws", WS_IMPLEMENTATION, "--ping-interval", str(ping_s))
    with baseline_process(1, *ping_args) as (url, pid):
        base = hold_idle(url, pid, total, processes, idle_s)
    facade_env = {
        "OMNIA_FACADE_MAX_CONNECTIONS": str(total + 100),
        "OMNIA_FACADE_PING_INTERVAL": f"{ping_s:g}s",
        "OMNIA_FACADE_PING_TIMEOUT": f"{ping_s * 2:g}s",
    }
    with agent_stack(chunks=1, facade_env=facade_env) as stack:
        full = hold_idle(stack.ws_url, stack.facade_pid, total, processes, idle_s)
    print(
        f"{total} sessions from {processes} client process(es), pings every {ping_s:g} s, idle window {idle_s:g} s"
        f"{'' if total >= 10_000 else ' (fewer than the 10,000 of the target: use --full)'}"
    )
    for name, result in (("baseline", base), ("facade", full)):
        print(
            f"{name}: opened {result.opened} ({result.failed} failed) in {result.open_s:.1f} s, "
            f"RSS {result.rss_before_kib / 1024:.0f} -> {result.rss_after_kib / 1024:.0f} MiB"
        )
    projected = (full.rss_before_kib + full.rss_per_connection_kib() * 10_000) / 1024
    print_figures(
        "idle connections",
        [
            Figure("idle_rss_per_connection", full.rss_per_connection_kib(), "KiB", base.rss_per_connection_kib()),
            Figure(
                "idle_rss_total", full.rss_after_kib / 1024, "MiB", base.rss_after_kib / 1024, target="< 512 MiB at 10k"
            ),
            Figure("idle_rss_projected_10k", projected, "MiB", target="< 512 MiB"),
            Figure(
                "idle_sessions_still_open",
                100 * full.still_open / total,
                "%",
                100 * base.still_open / total,
                target="100 %",
            ),
            Figure("idle_ping_cpu", 100 * full.idle_cpu_share, "%core", 100 * base.idle_cpu_share),
            Figure("sessions_opened_per_s", full.opened / full.open_s, "sessions/s", base.opened / base.open_s),
        ],
    )


if __name__ == "__main__":
    main()
