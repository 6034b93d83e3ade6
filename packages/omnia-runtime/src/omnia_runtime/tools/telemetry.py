"""Metrics and spans for tool calls (names from the upstream runtime).

``omnia_tool_calls_total{tool,status}`` and ``omnia_tool_call_duration_seconds{tool}`` live in the default
Prometheus registry (served on the health port's ``/metrics``); each call also gets an ``omnia.tool.call`` span.
These are defined here once: other runtime modules must not register the same metric names.
"""

import contextlib
from collections.abc import Iterator

from opentelemetry import trace
from prometheus_client import Counter, Histogram

from omnia_runtime.tracing import start_span

__all__ = ["TOOL_CALLS", "TOOL_CALL_DURATION", "TOOL_CALL_SPAN", "tool_call_span"]

TOOL_CALL_SPAN = "omnia.tool.call"

TOOL_CALLS = Counter("omnia_tool_calls_total", "Tool calls by tool and outcome.", ["tool", "status"])
TOOL_CALL_DURATION = Histogram(
    "omnia_tool_call_duration_seconds",
    "Duration of tool calls, retries included.",
    ["tool"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


@contextlib.contextmanager
def tool_call_span() -> Iterator[trace.Span]:
    """The ``omnia.tool.call`` span of the current call.

    When the caller (the conversation loop) already opened one, the router's attributes go on that span, so
    each call has exactly one; a router used on its own (SDK, operator discovery) opens its own.
    """
    current = trace.get_current_span()
    if current.is_recording() and getattr(current, "name", None) == TOOL_CALL_SPAN:
        yield current
        return
    with start_span(TOOL_CALL_SPAN) as span:
        yield span
