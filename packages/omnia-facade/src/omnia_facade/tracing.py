"""OpenTelemetry set-up: an OTLP/gRPC exporter when ``OMNIA_TRACING_ENABLED`` is true, otherwise nothing."""

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from omnia_facade.settings import FacadeSettings


def build_tracer_provider(settings: FacadeSettings) -> TracerProvider | None:
    if not settings.tracing_enabled:
        return None
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    resource = Resource.create(
        {
            "service.name": "omnia-facade",
            "omnia.agent.name": settings.agent_name,
            "omnia.agent.namespace": settings.namespace,
        }
    )
    provider = TracerProvider(resource=resource, sampler=ParentBased(TraceIdRatioBased(settings.tracing_sample_rate)))
    exporter = OTLPSpanExporter(endpoint=settings.tracing_endpoint or None, insecure=settings.tracing_insecure)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider
