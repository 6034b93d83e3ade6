"""Fault injection: the failures a real API server produces under load, on demand and reproducibly.

`error_rate` fails that fraction of API requests (seeded random, so a test run is repeatable) with
`error_status`; `fail_next` queues exact failures for deterministic tests; `latency` delays every API
request; `drop_watches` cuts every open watch connection. Discovery and health endpoints are never faulted.
"""

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from omnia_operator.testing.fakekube import status as st


@dataclass
class Faults:
    error_rate: float = 0.0
    error_status: int = 500
    retry_after: int | None = None
    latency: float = 0.0
    verbs: frozenset[str] | None = None
    """Only requests with these verbs (get, list, watch, create, update, patch, delete) are faulted; None = all."""
    seed: int = 0
    _queued: deque[tuple[int, int | None, frozenset[str] | None]] = field(default_factory=deque)
    _random: random.Random = field(init=False)
    dropper: Callable[[], int] = lambda: 0
    """Cuts the open watches and says how many there were (the server binds it to its store)."""
    injected: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def fail_next(
        self, count: int = 1, *, status: int = 500, retry_after: int | None = None, verbs: set[str] | None = None
    ) -> None:
        """Fail the next `count` requests (with one of `verbs`, when given) with `status`."""
        for _ in range(count):
            self._queued.append((status, retry_after, frozenset(verbs) if verbs else None))

    def drop_watches(self) -> int:
        """Cut every open watch connection; returns how many were open."""
        return self.dropper()

    def clear(self) -> None:
        self.error_rate = 0.0
        self.latency = 0.0
        self._queued.clear()

    def pick(self, verb: str) -> st.StatusError | None:
        for index, (status, retry_after, verbs) in enumerate(self._queued):
            if verbs is None or verb in verbs:
                del self._queued[index]
                self.injected += 1
                return _error(status, retry_after)
        wanted = self.verbs is None or verb in self.verbs
        if self.error_rate > 0 and wanted and self._random.random() < self.error_rate:
            self.injected += 1
            return _error(self.error_status, self.retry_after)
        return None


def _error(status: int, retry_after: int | None) -> st.StatusError:
    if status == 429:
        return st.too_many_requests(retry_after or 1)
    if status == 409:  # what a write racing another writer gets
        return st.conflict("objects", "injected", "the object has been modified; please apply your changes to the "
                           "latest version and try again")  # fmt: skip
    reasons = {500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout", 403: "Forbidden", 404: "NotFound"}
    error = st.StatusError(status, reasons.get(status, "InternalError"), f"injected fault: HTTP {status}")
    error.retry_after = retry_after
    return error
