"""Errors of the tool adapters, all under ``omnia_runtime.errors.ToolError``.

Adapters raise these; the router turns every one of them into ``ToolResult(is_error=True)`` so a failed call
reaches the model as a tool result, never as a crashed turn. Two properties drive the router:

- ``retryable``: the failure is transient (connection refused, 429/502/503/504, gRPC UNAVAILABLE...), so the
  retry policy may try again, after ``retry_after`` seconds when the backend said so.
- ``counts_for_breaker``: the backend itself is unhealthy. Bad arguments, 4xx answers and errors reported by the
  tool do not count: the backend answered, the request was wrong.
"""

from omnia_runtime.errors import ToolError

__all__ = [
    "CircuitOpenError",
    "ToolArgumentsError",
    "ToolBackendError",
    "ToolDiscoveryError",
    "ToolRejectedError",
    "ToolTimeoutError",
    "UnknownToolError",
]


class UnknownToolError(ToolError):
    """The model called a tool that no handler offers."""


class ToolArgumentsError(ToolError):
    """The arguments do not match the tool's input schema; nothing was sent."""


class ToolRejectedError(ToolError):
    """The backend answered and refused the call (4xx, invalid response, tool-level failure). Not retried."""


class ToolBackendError(ToolError):
    """The backend failed or could not be reached. Counts against the circuit breaker."""

    counts_for_breaker = True

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class ToolTimeoutError(ToolBackendError):
    """The call did not finish within the handler's timeout."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


class CircuitOpenError(ToolError):
    """The tool's circuit breaker is open after repeated failures; the call was not attempted."""


class ToolDiscoveryError(ToolError):
    """A handler's tools could not be listed (unreachable, timed out, bad spec)."""
