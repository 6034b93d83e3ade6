"""The project's fake Kubernetes API served from a thread with its own event loop, for synchronous tests.

The thread owns the server's whole lifetime: it starts it, signals that the URL is known, and stops it when
the test exits the context (the stop request crosses threads with `call_soon_threadsafe`).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Self

from omnia_operator.testing import fakekube

START_TIMEOUT_SECONDS = 15
STOP_TIMEOUT_SECONDS = 15


class FakeKubeInThread:
    def __init__(self, crds: list[dict[str, Any]]) -> None:
        self._crds = crds
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-kube-api", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._api: fakekube.FakeKubeAPI | None = None
        self._error: BaseException | None = None
        self.url = ""

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_SECONDS):
            raise RuntimeError(f"the fake Kubernetes API did not start within {START_TIMEOUT_SECONDS}s")
        if self._error is not None:
            raise RuntimeError("the fake Kubernetes API failed to start") from self._error
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(STOP_TIMEOUT_SECONDS)
        if self._thread.is_alive():
            raise RuntimeError(f"the fake Kubernetes API did not stop within {STOP_TIMEOUT_SECONDS}s")

    def verbs_seen(self) -> set[tuple[str, str]]:
        """(verb, resource) of every request the fake has received so far."""
        assert self._api is not None
        return {(r.verb, r.resource) for r in list(self._api.request_log)}

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as e:  # reported to the test thread by __enter__
            self._error = e
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with fakekube.FakeKubeAPI(crds=self._crds) as api:
            self._api = api
            self.url = api.url
            self._ready.set()
            await self._stop.wait()
