"""Two child processes (runtime, facade) supervised as one: start, wait ready, relay logs, stop in order.

The children run in their own process group, so a Ctrl-C in the terminal reaches only us; we then stop the facade
first (it drains its sockets) and the runtime second, each with SIGTERM and a bounded wait before SIGKILL. If either
child exits on its own, the other is stopped too and the exit is reported.
"""

import asyncio
import contextlib
import logging
import signal
import socket
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

import aiohttp

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
LOG_TAIL_LINES = 20
MAX_LINE_BYTES = 64 * 1024


class StartError(Exception):
    """A child process could not start or become ready; the message says why and what to change."""


def check_port_free(host: str, port: int, what: str) -> None:
    """Raise StartError when host:port cannot be bound (another process has it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers do: a port whose last connections linger in TIME_WAIT is free to listen on.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as e:
            raise StartError(
                f"port {port} on {host} ({what}) is already in use: stop what holds it or choose another port"
            ) from e


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    health_url: str
    process: asyncio.subprocess.Process | None = None
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_TAIL_LINES))

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.argv,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            limit=MAX_LINE_BYTES,
        )

    async def relay(self, out: TextIO) -> None:
        """Copy the child's output, prefixed with its name, until it closes."""
        assert self.process is not None
        assert self.process.stdout is not None
        while True:
            try:
                line = await self.process.stdout.readline()
            except ValueError:  # a line longer than the limit: drop it, keep reading
                continue
            if not line:
                return
            text = line.decode(errors="replace").rstrip()
            self.tail.append(text)
            out.write(f"[{self.name}] {text}\n")
            out.flush()

    def exited(self) -> bool:
        return self.process is not None and self.process.returncode is not None

    async def wait_ready(self, session: aiohttp.ClientSession, deadline: float) -> str | None:
        """None once /readyz answers 200; otherwise why it never will (the child exited, or the deadline)."""
        loop = asyncio.get_running_loop()
        while loop.time() < deadline:
            if self.exited():
                return self.failure(f"{self.name} exited with status {self.returncode()} while starting")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(self.health_url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                    if response.status == 200:
                        return None
            await asyncio.sleep(0.1)
        return self.failure(f"{self.name} did not become ready ({self.health_url}) in {READY_TIMEOUT_S:.0f}s")

    def returncode(self) -> int | None:
        return self.process.returncode if self.process is not None else None

    def failure(self, message: str) -> str:
        lines = "\n".join(f"  {line}" for line in self.tail)
        return f"{message}; its last output:\n{lines}" if lines else message

    async def stop(self) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await process.wait()
        except TimeoutError:
            logger.warning("%s did not stop within %.0fs; killing it", self.name, STOP_TIMEOUT_S)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


async def _serve(
    children: list[Child],
    group: asyncio.TaskGroup,
    session: aiohttp.ClientSession,
    stop: asyncio.Event,
    relays: list["asyncio.Task[None]"],
    out: TextIO,
    on_ready: Callable[[], None] | None,
) -> str | None:
    """Start each child and wait for it to be ready, then until a stop or a child exits; the failure if any."""
    loop = asyncio.get_running_loop()
    stopped = group.create_task(stop.wait())
    try:
        for child in children:
            try:
                await child.start()
            except OSError as e:
                return f"cannot start {child.name} ({child.argv[0]}): {e}"
            relays.append(group.create_task(child.relay(out), name=f"relay-{child.name}"))
            ready = group.create_task(child.wait_ready(session, loop.time() + READY_TIMEOUT_S))
            await asyncio.wait({ready, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not ready.done():
                ready.cancel()
                return None
            if (problem := ready.result()) is not None:
                return problem
        if on_ready is not None:
            on_ready()
        waits = [group.create_task(c.process.wait()) for c in children if c.process is not None]
        await asyncio.wait({*waits, stopped}, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        dead = [c for c in children if c.exited()]
        if dead and not stop.is_set():
            return dead[0].failure(f"{dead[0].name} exited with status {dead[0].returncode()}")
        return None
    finally:
        stopped.cancel()


async def run_children(
    children: list[Child], on_ready: Callable[[], None] | None = None, *, out: TextIO = sys.stdout
) -> int:
    """Start children in order, each ready before the next; serve until a signal or a child exits.

    Returns 0 after a requested stop, 1 when a child failed. Stops children in reverse order.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    failure: str | None = None
    relays: list[asyncio.Task[None]] = []
    try:
        async with asyncio.TaskGroup() as group, aiohttp.ClientSession() as session:
            try:
                failure = await _serve(children, group, session, stop, relays, out, on_ready)
            finally:
                for child in reversed(children):
                    await child.stop()
                if relays:
                    # A grandchild (an MCP stdio server) may hold a pipe open: do not wait on it forever.
                    _, pending = await asyncio.wait(relays, timeout=2.0)
                    for task in pending:
                        task.cancel()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    if failure is not None:
        sys.stderr.write(f"error: {failure}\n")
        sys.stderr.flush()
        return 1
    return 0
