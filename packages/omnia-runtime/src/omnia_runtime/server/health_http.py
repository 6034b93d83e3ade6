"""A tiny asyncio HTTP server for ``/healthz``, ``/readyz`` and ``/metrics`` (no web framework: start-up
time matters and three GET routes need none). ``/readyz`` answers 503 with the reasons until ready; once
ready it answers 200 ``ready``, followed by ``warning: ...`` lines for what serves but not as configured
(validators the runtime cannot enforce), so ``kubectl exec ... curl /readyz`` shows them."""

import asyncio
import contextlib
import logging
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

logger = logging.getLogger(__name__)

MAX_REQUEST_LINE = 8192
READ_TIMEOUT = 10.0


class Readiness:
    """Why the runtime is not ready yet (empty = ready)."""

    def __init__(self) -> None:
        self.reasons: list[str] = ["starting"]
        self.warnings: list[str] = []
        """Shown by a ready ``/readyz``; they do not make the runtime unready."""

    def set_ready(self) -> None:
        self.reasons = []

    def set_not_ready(self, reasons: list[str]) -> None:
        self.reasons = reasons or ["not ready"]


class HealthServer:
    def __init__(self, readiness: Readiness, metrics: Callable[[], bytes] = generate_latest) -> None:
        self._readiness = readiness
        self._metrics = metrics
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._handle, host, port)
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _route(self, method: str, path: str) -> tuple[int, str, bytes]:
        if method != "GET":
            return 405, "text/plain", b"method not allowed\n"
        path = path.split("?", 1)[0]
        if path == "/healthz":
            return 200, "text/plain", b"ok\n"
        if path == "/readyz":
            if self._readiness.reasons:
                return 503, "text/plain", ("not ready:\n" + "\n".join(self._readiness.reasons) + "\n").encode()
            lines = ["ready", *(f"warning: {w}" for w in self._readiness.warnings)]
            return 200, "text/plain", ("\n".join(lines) + "\n").encode()
        if path == "/metrics":
            return 200, CONTENT_TYPE_LATEST, self._metrics()
        return 404, "text/plain", b"not found\n"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_TIMEOUT):
                request_line = await reader.readuntil(b"\r\n")
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
            parts = request_line.decode("latin-1").split()
            status, content_type, body = (
                self._route(parts[0], parts[1]) if len(parts) >= 2 else (400, "text/plain", b"")
            )
            reason = {
                200: "OK",
                400: "Bad Request",
                404: "Not Found",
                405: "Method Not Allowed",
                503: "Service Unavailable",
            }
            head = (
                f"HTTP/1.1 {status} {reason.get(status, '')}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode("latin-1") + body)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
