"""Retries and circuit breaking around one tool call.

``call_with_retries`` runs an attempt under the handler's timeout and retries only ``ToolBackendError`` with
``retryable=True`` (the adapters decide that from the transport: connection errors, the policy's HTTP statuses,
gRPC UNAVAILABLE/DEADLINE_EXCEEDED/RESOURCE_EXHAUSTED). Delays grow exponentially with full jitter, capped by
``maxBackoff``; a ``Retry-After`` from the backend replaces the computed delay (still capped, so a hostile
header cannot park a turn for an hour).

``CircuitBreaker`` is per tool: after ``failure_threshold`` consecutive backend failures it opens and calls fail
fast; after ``cool_down`` seconds one trial call is let through (half-open) and its outcome closes or re-opens
the breaker. Rejections (4xx, bad arguments, tool-reported errors) neither count nor reset anything. The clock
and the sleep function are injected so tests run without waiting.
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from omnia_runtime.tools.config import RetryPolicy
from omnia_runtime.tools.errors import CircuitOpenError, ToolBackendError, ToolTimeoutError

__all__ = ["BreakerState", "CircuitBreaker", "RetryOutcome", "backoff_delay", "call_with_retries"]

T = TypeVar("T")
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
BreakerState = Literal["closed", "open", "half-open"]


def backoff_delay(policy: RetryPolicy, retry_number: int, retry_after: float | None, rng: random.Random) -> float:
    """Delay before retry ``retry_number`` (1-based)."""
    if retry_after is not None and policy.respect_retry_after:
        return min(max(retry_after, 0.0), policy.max_backoff)
    ceiling = min(policy.initial_backoff * policy.backoff_multiplier ** (retry_number - 1), policy.max_backoff)
    return rng.uniform(ceiling / 2, ceiling)


@dataclass
class RetryOutcome(Generic[T]):
    value: T
    attempts: int


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    attempt_timeout: float,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
    on_attempt: Callable[[int], None] | None = None,
) -> RetryOutcome[T]:
    """Run ``attempt`` until it succeeds, fails permanently or the policy's attempts are used up.

    Each attempt gets ``attempt_timeout`` seconds. The last error is re-raised.
    """
    rng = rng or random.Random()
    number = 0
    while True:
        number += 1
        if on_attempt is not None:
            on_attempt(number)
        try:
            async with asyncio.timeout(attempt_timeout):
                value = await attempt()
            return RetryOutcome(value, number)
        except TimeoutError as e:
            error: ToolBackendError = ToolTimeoutError(f"no answer within the handler timeout of {attempt_timeout:g}s")
            error.__cause__ = e
        except ToolBackendError as e:
            error = e
        if not error.retryable or number >= policy.max_attempts:
            raise error
        await sleep(backoff_delay(policy, number, error.retry_after, rng))


class CircuitBreaker:
    """Consecutive-failure breaker for one tool."""

    def __init__(self, *, failure_threshold: int = 5, cool_down: float = 30.0, clock: Clock = time.monotonic) -> None:
        self._threshold = failure_threshold
        self._cool_down = cool_down
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self._cool_down:
            return "half-open"
        return "open"

    def before_call(self) -> None:
        """Raise CircuitOpenError unless a call may go through now (claims the half-open trial)."""
        state = self.state
        if state == "closed":
            return
        if state == "half-open" and not self._trial_running:
            self._trial_running = True
            return
        assert self._opened_at is not None
        wait = max(self._cool_down - (self._clock() - self._opened_at), 0.0)
        raise CircuitOpenError(f"circuit open after {self._failures} consecutive failures; next trial in {wait:.0f}s")

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._trial_running or self._failures >= self._threshold:
            self._opened_at = self._clock()
        self._trial_running = False

    def record_neutral(self) -> None:
        """The backend answered but refused the request: health unknown, release a half-open trial."""
        self._trial_running = False
