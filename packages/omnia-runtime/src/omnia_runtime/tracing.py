"""OpenTelemetry set-up: OTLP/gRPC export when ``OMNIA_TRACING_ENABLED``, gRPC server instrumentation so a
trace started by the facade continues here. Span names: ``omnia.runtime.conversation.turn`` →
``genai.chat`` → ``omnia.tool.call``; every span carries ``session.id``."""

import logging

from opentelemetry import trace
from opentelemetry.trace import Tracer

from omnia_runtime.settings import RuntimeSettings

logger = logging.getLogger(__name__)

SERVICE_NAME = "omnia-runtime"


def tracer() -> Tracer:
    return trace.get_tracer("omnia_runtime")


def configure_tracing(settings: RuntimeSettings) -> None:
    """Install an OTLP exporting tracer provider when tracing is enabled; otherwise spans are no-ops."""
    if not settings.tracing_enabled:
        return
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
    provider = TracerProvider(resource=resource, sampler=ParentBased(TraceIdRatioBased(settings.tracing_sample_rate)))
    exporter = OTLPSpanExporter(endpoint=settings.tracing_endpoint or None, insecure=settings.tracing_insecure)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    logger.info("tracing enabled, exporting to %s", settings.tracing_endpoint or "the OTLP default endpoint")


def server_interceptors() -> list[object]:
    """gRPC aio server interceptors that extract the W3C trace context sent by the facade."""
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return [aio_server_interceptor()]
