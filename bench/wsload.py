"""A WebSocket load generator that speaks the Omnia protocol (and the baseline's subset of it).

Each session is one WebSocket connection. A *turn* sends one ``message`` and reads frames until ``done``,
counting the text carried by ``chunk`` frames (a server may pack several deltas into one frame, so the
figure that compares servers fairly is *deltas*, counted by the payload the benchmark asked for).

Two loops:

- closed loop (``run_closed``): every session sends its next turn as soon as the previous one is done, for a
  fixed duration: measures throughput.
- open loop (``run_open``): every session sends one turn per ``interval`` regardless of how the server keeps
  up: measures latency below saturation. ``run_open_alternating`` does it for one session on each of several
  servers, which take turns, so that they are compared over the same stretch of time.
"""

import asyncio
import json
import time
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect

TURN_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 30.0


@dataclass
class TurnTiming:
    first_chunk_s: float
    done_s: float
    chunk_frames: int
    text_bytes: int


@dataclass
class LoadResult:
    sessions: int
    duration_s: float
    turns: list[TurnTiming] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    server_cpu_s: float = float("nan")
    server_cpu_split: list[float] = field(default_factory=list)
    """CPU seconds the server process(es) used during the run, when the benchmark measured it."""

    @property
    def turns_per_s(self) -> float:
        return len(self.turns) / self.duration_s if self.duration_s else 0.0

    def deltas_per_s(self, deltas_per_turn: int) -> float:
        return self.turns_per_s * deltas_per_turn

    def server_cpu_per_delta_us(self, deltas_per_turn: int) -> float:
        deltas = len(self.turns) * deltas_per_turn
        return self.server_cpu_s / deltas * 1e6 if deltas else float("nan")

    def percentile(self, attribute: str, q: float) -> float:
        values = sorted(getattr(t, attribute) for t in self.turns)
        if not values:
            return float("nan")
        index = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
        return values[index]


async def open_session(url: str) -> ClientConnection:
    """Connect and read the ``connected`` greeting (the facade and the baseline both send one)."""
    ws = await connect(url, compression=None, max_size=2**24, open_timeout=CONNECT_TIMEOUT_S, ping_interval=None)
    frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=CONNECT_TIMEOUT_S))
    if frame.get("type") != "connected":
        await ws.close()
        raise RuntimeError(f"unexpected first frame {frame!r}")
    return ws


async def open_sessions(url: str, count: int, *, concurrency: int = 50) -> list[ClientConnection]:
    """``count`` sessions, opened ``concurrency`` at a time."""
    connections: list[ClientConnection] = []
    for first in range(0, count, concurrency):
        batch = min(concurrency, count - first)
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(open_session(url)) for _ in range(batch)]
        connections.extend(task.result() for task in tasks)
    return connections


async def one_turn(ws: ClientConnection, text: str) -> TurnTiming:
    start = time.perf_counter()
    await ws.send(json.dumps({"type": "message", "content": text}))
    first = 0.0
    frames = 0
    size = 0
    async with asyncio.timeout(TURN_TIMEOUT_S):
        while True:
            frame = json.loads(await ws.recv())
            kind = frame.get("type")
            if kind == "chunk":
                if not frames:
                    first = time.perf_counter() - start
                frames += 1
                size += len(frame.get("content", ""))
            elif kind == "done":
                return TurnTiming(first, time.perf_counter() - start, frames, size)
            elif kind == "error":
                raise RuntimeError(f"server error: {frame.get('error')}")


async def run_closed(url: str, *, sessions: int, duration_s: float, text: str = "stream please") -> LoadResult:
    """Every session runs turns back to back for ``duration_s`` seconds."""
    connections = await open_sessions(url, sessions)
    result = LoadResult(sessions=sessions, duration_s=duration_s)
    deadline = time.perf_counter() + duration_s

    async def session_loop(ws: ClientConnection) -> None:
        while time.perf_counter() < deadline:
            try:
                result.turns.append(await one_turn(ws, text))
            except (RuntimeError, TimeoutError) as e:
                result.errors += 1
                result.first_error = result.first_error or repr(e)

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for ws in connections:
            group.create_task(session_loop(ws))
    result.duration_s = time.perf_counter() - started
    for ws in connections:
        await ws.close()
    return result


async def run_open(
    url: str, *, sessions: int, duration_s: float, interval_s: float = 1.0, text: str = "stream please"
) -> LoadResult:
    """Every session sends one turn per ``interval_s``, staggered, for ``duration_s`` seconds."""
    connections = await open_sessions(url, sessions)
    result = LoadResult(sessions=sessions, duration_s=duration_s)
    start = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for index, ws in enumerate(connections):
            first_at = start + interval_s * index / sessions
            group.create_task(paced_turns(ws, result, first_at, start + duration_s, interval_s, text))
    for ws in connections:
        await ws.close()
    return result


async def run_open_alternating(
    urls: list[str], *, rounds: int, segment_s: float, interval_s: float, text: str = "stream please"
) -> list[LoadResult]:
    """One session per server, one turn per ``interval_s``; the servers take turns, ``segment_s`` each, for
    ``rounds`` rounds (the order reversed every other round), and only one is loaded at a time.

    Every server is measured over the same stretch of time, so a machine that gets busier or quieter midway
    (these are shared machines) shifts them alike; each still sees the same pace and the same idle time between
    turns as in ``run_open``.
    """
    connections = [await open_session(url) for url in urls]
    results = [LoadResult(sessions=1, duration_s=rounds * segment_s) for _ in urls]
    try:
        for round_index in range(rounds):
            order = list(range(len(urls)))
            for index in order if round_index % 2 == 0 else reversed(order):
                start = time.perf_counter()
                await paced_turns(connections[index], results[index], start, start + segment_s, interval_s, text)
    finally:
        for ws in connections:
            await ws.close()
    return results


async def paced_turns(
    ws: ClientConnection, result: LoadResult, first_at: float, end: float, interval_s: float, text: str
) -> None:
    """Send one turn at ``first_at`` and every ``interval_s`` after it until ``end``, recording them on ``result``."""
    next_at = first_at
    while next_at < end:
        delay = next_at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            result.turns.append(await one_turn(ws, text))
        except (RuntimeError, TimeoutError) as e:
            result.errors += 1
            result.first_error = result.first_error or repr(e)
        next_at += interval_s
