"""OpenTelemetry set-up: OTLP/gRPC export when ``OMNIA_TRACING_ENABLED``, gRPC server instrumentation so a
trace started by the facade continues here. Span names: ``omnia.runtime.conversation.turn`` →
``genai.chat`` → ``omnia.tool.call``; every span carries ``session.id``.

Sampling is ``ParentBased(TraceIdRatioBased(OMNIA_TRACING_SAMPLE_RATE))``: a call that carries a W3C
``traceparent`` follows the caller's sampling decision (the facade decides for the whole trace), a call
without one is sampled at the configured rate (0 exports nothing, 1 everything). Spans are batched;
``tracing`` shuts the provider down when serving ends so the last batch reaches the collector before the
process exits.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import INVALID_SPAN, Span, Tracer

from omnia_runtime.settings import RuntimeSettings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

logger = logging.getLogger(__name__)

SERVICE_NAME = "omnia-runtime"
SHUTDOWN_TIMEOUT = 10.0
"""Seconds the last export may take when serving ends."""


_NO_SPAN: AbstractContextManager[Span] = contextlib.nullcontext(INVALID_SPAN)


def tracer() -> Tracer:
    return trace.get_tracer("omnia_runtime")


def tracing_on() -> bool:
    """Whether a tracer provider is installed (by ``configure_tracing``, or by an embedding application)."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def start_span(
    name: str, *, attributes: Mapping[str, Any] | None = None, context: Context | None = None
) -> AbstractContextManager[Span]:
    """``start_as_current_span`` when tracing is on; otherwise a shared do-nothing span.

    The OpenTelemetry API's own no-op path still builds a span and attaches a context, which costs a turn about
    a tenth of a millisecond per span on an idle process, before its first chunk.
    """
    if not tracing_on():
        return _NO_SPAN
    return tracer().start_as_current_span(name, attributes=attributes, context=context)


def configure_tracing(settings: RuntimeSettings) -> "TracerProvider | None":
    """Install an OTLP exporting tracer provider when tracing is enabled (returned, so that it can be shut
    down); otherwise spans are no-ops and ``None`` is returned."""
    if not settings.tracing_enabled:
        return None
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    resource = Resource.create(
        {
            "service.name": SERVICE_NAME,
            "omnia.agent.name": settings.agent_name,
            "k8s.namespace.name": settings.namespace,
        }
    )
    provider = TracerProvider(
        resource=resource,
        sampler=ParentBased(TraceIdRatioBased(settings.tracing_sample_rate)),
        shutdown_on_exit=False,  # shut down by ``tracing`` while the event loop still runs
    )
    exporter = OTLPSpanExporter(
        endpoint=settings.tracing_endpoint or None, insecure=settings.tracing_insecure, timeout=SHUTDOWN_TIMEOUT
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    logger.info(
        "tracing enabled, exporting to %s, sample rate %g",
        settings.tracing_endpoint or "the OTLP default endpoint",
        settings.tracing_sample_rate,
    )
    return provider


@contextlib.asynccontextmanager
async def tracing(settings: RuntimeSettings) -> AsyncIterator[None]:
    """Tracing for the duration of the block; on exit the pending spans are flushed to the collector."""
    provider = configure_tracing(settings)
    try:
        yield
    finally:
        if provider is not None:
            # shutdown() flushes and blocks on the exporter (bounded by its timeout): off the event loop.
            await asyncio.to_thread(provider.shutdown)


def server_interceptors() -> list[object]:
    """gRPC aio server interceptors that extract the W3C trace context sent by the facade."""
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return [aio_server_interceptor()]
