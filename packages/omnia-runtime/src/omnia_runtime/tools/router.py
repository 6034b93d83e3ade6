"""The ``ToolExecutor`` the conversation loop uses: routes each call to its handler's adapter.

``start()`` builds one adapter per handler and starts them concurrently, each under the discovery timeout; a
handler that fails or hangs is logged and left out, and never delays the others beyond that timeout. Every
call then goes through the same steps, whatever the transport:

1. unknown tool or client-side tool → error result;
2. arguments validated against the tool's JSON Schema → error result listing what is wrong, nothing sent;
3. the tool's circuit breaker may refuse the call (open) or let one trial through (half-open);
4. the adapter is called under the handler timeout, transient failures retried per the retry policy;
5. the outcome is counted (``omnia_tool_calls_total``, ``omnia_tool_call_duration_seconds``) and traced
   (``omnia.tool.call`` span). Failures always come back as ``ToolResult(is_error=True)``.
"""

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from omnia_runtime.errors import ToolError
from omnia_runtime.tools.adapter import ToolAdapter
from omnia_runtime.tools.base import ToolCallContext, ToolResult, ToolSpec
from omnia_runtime.tools.config import ToolsConfig
from omnia_runtime.tools.discovery import close_adapter, create_adapter, start_adapter
from omnia_runtime.tools.errors import CircuitOpenError, ToolArgumentsError, ToolBackendError, ToolRejectedError
from omnia_runtime.tools.resilience import CircuitBreaker, call_with_retries
from omnia_runtime.tools.telemetry import TOOL_CALL_DURATION, TOOL_CALLS, tool_call_span

__all__ = ["ToolRouter"]

logger = logging.getLogger(__name__)

MAX_ARGUMENT_ERRORS = 5


@dataclass
class _Route:
    spec: ToolSpec
    adapter: ToolAdapter
    validator: Validator
    breaker: CircuitBreaker


class ToolRouter:
    """Implements ToolExecutor over the handlers of ``tools.yaml``."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        failure_threshold: int = 5,
        cool_down: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._failure_threshold = failure_threshold
        self._cool_down = cool_down
        self._rng = rng or random.Random()
        self._routes: dict[str, _Route] = {}
        self._adapters: list[ToolAdapter] = []
        self._closed = False

    async def start(self, config: ToolsConfig, *, discovery_timeout: float = 10.0) -> None:
        """Start every handler concurrently; failures are logged and skipped."""
        for problem in config.problems:
            logger.warning("tools config: %s", problem)
        started: list[tuple[ToolAdapter, list[ToolSpec]]] = []

        async def start_one(adapter: ToolAdapter) -> None:
            try:
                specs = await start_adapter(adapter, discovery_timeout)
            except ToolError as e:
                logger.warning("tool handler %s skipped: %s", adapter.handler.name, e)
                return
            started.append((adapter, specs))

        adapters: list[ToolAdapter] = []
        for handler in config.handlers:
            try:
                adapters.append(create_adapter(handler))
            except Exception as e:
                logger.warning("tool handler %s skipped: %s", handler.name, e)
        try:
            async with asyncio.TaskGroup() as group:
                for adapter in adapters:
                    group.create_task(start_one(adapter))
        except BaseException:  # cancelled while starting: leave no session or subprocess behind
            for adapter in adapters:
                await close_adapter(adapter)
            raise
        order = {h.name: i for i, h in enumerate(config.handlers)}
        for adapter, specs in sorted(started, key=lambda item: order[item[0].handler.name]):
            self._adapters.append(adapter)
            for spec in specs:
                self._add_route(adapter, spec)
        logger.info("tools ready: %d tools from %d handlers", len(self._routes), len(self._adapters))

    def _add_route(self, adapter: ToolAdapter, spec: ToolSpec) -> None:
        if spec.name in self._routes:
            logger.warning(
                "tool %s of handler %s ignored: handler %s already offers a tool of that name",
                spec.name,
                spec.handler,
                self._routes[spec.name].spec.handler,
            )
            return
        try:
            schema = dict(spec.input_schema)
            validator_class = validator_for(schema)
            validator_class.check_schema(schema)
        except jsonschema.SchemaError as e:
            logger.warning(
                "tool %s of handler %s ignored: invalid input schema: %s", spec.name, spec.handler, e.message
            )
            return
        breaker = CircuitBreaker(
            failure_threshold=self._failure_threshold, cool_down=self._cool_down, clock=self._clock
        )
        self._routes[spec.name] = _Route(spec, adapter, validator_class(schema), breaker)

    def specs(self) -> Sequence[ToolSpec]:
        return [route.spec for route in self._routes.values()]

    def breaker_state(self, name: str) -> str:
        """``closed``, ``open`` or ``half-open`` (for health reporting and tests)."""
        return self._routes[name].breaker.state

    def _check_arguments(self, route: _Route, arguments: Mapping[str, Any]) -> None:
        errors = sorted(route.validator.iter_errors(dict(arguments)), key=lambda e: list(e.absolute_path))
        if errors:
            described = [
                f"{'/'.join(str(p) for p in e.absolute_path) or '(arguments)'}: {e.message}"
                for e in errors[:MAX_ARGUMENT_ERRORS]
            ]
            raise ToolArgumentsError(f"invalid arguments for {route.spec.name}: " + "; ".join(described))

    async def execute(self, name: str, arguments: Mapping[str, Any], *, context: ToolCallContext) -> ToolResult:
        route = self._routes.get(name)
        if route is None:
            TOOL_CALLS.labels(tool="unknown", status="error").inc()  # model-invented names must not become labels
            return ToolResult.error(f"unknown tool {name!r}; available: {', '.join(sorted(self._routes)) or 'none'}")
        if route.spec.execution == "client":
            return ToolResult.error(f"{name} is a client-side tool: the client runs it, not the runtime")
        handler = route.adapter.handler
        started = time.perf_counter()
        attempts = 0

        def count_attempt(number: int) -> None:
            nonlocal attempts
            attempts = number

        with tool_call_span() as span:
            span.set_attribute("tool.name", name)
            span.set_attribute("tool.handler.name", handler.name)
            span.set_attribute("tool.handler.type", handler.type)
            try:
                self._check_arguments(route, arguments)
                route.breaker.before_call()
                try:
                    outcome = await call_with_retries(
                        lambda: route.adapter.call(route.spec, arguments, context),
                        policy=handler.retry_policy,
                        attempt_timeout=handler.timeout,
                        sleep=self._sleep,
                        rng=self._rng,
                        on_attempt=count_attempt,
                    )
                except ToolBackendError:
                    route.breaker.record_failure()
                    raise
                except ToolRejectedError:
                    route.breaker.record_neutral()
                    raise
                except (ToolError, asyncio.CancelledError):  # a cancelled half-open trial must free its slot
                    route.breaker.record_neutral()
                    raise
                except Exception as e:  # an adapter bug must not crash the turn; treat it as a backend failure
                    route.breaker.record_failure()
                    logger.exception("tool %s: unexpected adapter failure", name)
                    raise ToolBackendError(f"{type(e).__name__}: {e}", retryable=False) from e
                route.breaker.record_success()
                result = outcome.value
            except ToolError as e:
                if not isinstance(e, ToolArgumentsError | CircuitOpenError):
                    logger.warning(
                        "tool %s (handler %s) failed after %d attempt(s): %s", name, handler.name, attempts, e
                    )
                result = ToolResult.error(str(e))
                span.set_attribute("error.type", type(e).__name__)
            span.set_attribute("attempts", attempts)
            span.set_attribute("tool.duration_ms", (time.perf_counter() - started) * 1000)
            span.set_attribute("tool.response.bytes", len(result.content))
        TOOL_CALLS.labels(tool=name, status="error" if result.is_error else "success").inc()
        TOOL_CALL_DURATION.labels(tool=name).observe(time.perf_counter() - started)
        return result

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        async with asyncio.TaskGroup() as group:
            for adapter in self._adapters:
                group.create_task(close_adapter(adapter))
        self._routes.clear()
        self._adapters.clear()
