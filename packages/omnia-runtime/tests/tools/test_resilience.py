import random

import pytest

from omnia_runtime.tools.config import RetryPolicy
from omnia_runtime.tools.errors import CircuitOpenError, ToolBackendError, ToolRejectedError
from omnia_runtime.tools.resilience import CircuitBreaker, backoff_delay, call_with_retries


def policy(**values: object) -> RetryPolicy:
    return RetryPolicy.model_validate(values)


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    rng = random.Random(4)
    p = policy(maxAttempts=10, initialBackoff="1s", backoffMultiplier=2.0, maxBackoff="5s")
    for retry, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (8, 5.0)]:
        delay = backoff_delay(p, retry, None, rng)
        assert ceiling / 2 <= delay <= ceiling


def test_retry_after_wins_unless_disabled() -> None:
    rng = random.Random(1)
    assert backoff_delay(policy(maxBackoff="30s"), 1, 12.0, rng) == 12.0
    ignoring = policy(respectRetryAfter=False, initialBackoff="1s")
    assert backoff_delay(ignoring, 1, 12.0, rng) <= 1.0


async def test_only_retryable_errors_are_retried() -> None:
    calls = 0
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def rejected() -> str:
        nonlocal calls
        calls += 1
        raise ToolRejectedError("HTTP 400")

    with pytest.raises(ToolRejectedError):
        await call_with_retries(rejected, policy=policy(maxAttempts=4), attempt_timeout=5, sleep=sleep)
    assert calls == 1

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 4:
            raise ToolBackendError("HTTP 503", retryable=True, retry_after=2.0)
        return "ok"

    outcome = await call_with_retries(flaky, policy=policy(maxAttempts=4), attempt_timeout=5, sleep=sleep)
    assert (outcome.value, outcome.attempts) == ("ok", 3)
    assert slept == [2.0, 2.0]


def test_half_open_lets_exactly_one_trial_through() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=2, cool_down=10, clock=lambda: now[0])
    breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError, match="next trial in 10s"):
        breaker.before_call()
    now[0] = 10.0
    breaker.before_call()
    with pytest.raises(CircuitOpenError):
        breaker.before_call()  # the trial is still running
    breaker.record_neutral()  # the trial was refused by the backend: try again
    breaker.before_call()
    breaker.record_success()
    assert breaker.state == "closed"
