"""Prometheus metrics of the facade (names from the reference), in a registry owned by the app.

Each app gets its own ``CollectorRegistry`` so several apps can live in one process (tests) and ``/metrics`` on
the health port serves exactly this facade's series. ``prometheus_client`` has no const labels, so every metric
carries ``agent`` and ``namespace`` as labels bound once here: callers see plain counters and gauges, or a
``labels(...)`` taking only the metric's own labels.
"""

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

DURATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
IDENTITY_LABELS = ("agent", "namespace")


class _Labelled:
    """A metric family with ``agent``/``namespace`` already bound."""

    def __init__(self, metric: Any, identity: dict[str, str]) -> None:
        self._metric = metric
        self._identity = identity

    def labels(self, **labels: str) -> Any:
        return self._metric.labels(**self._identity, **labels)


class FacadeMetrics:
    def __init__(self, *, agent: str, namespace: str, handler: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.handler = handler
        identity = {"agent": agent, "namespace": namespace}
        registry = self.registry

        def counter(name: str, doc: str) -> Any:
            return Counter(name, doc, IDENTITY_LABELS, registry=registry).labels(**identity)

        def gauge(name: str, doc: str) -> Any:
            return Gauge(name, doc, IDENTITY_LABELS, registry=registry).labels(**identity)

        def labelled_counter(name: str, doc: str, label: str) -> _Labelled:
            return _Labelled(Counter(name, doc, (*IDENTITY_LABELS, label), registry=registry), identity)

        self.connections_active = gauge("omnia_agent_connections_active", "Open WebSocket connections")
        self.connections_total = counter("omnia_agent_connections_total", "WebSocket connections accepted")
        self.connections_rejected_total = labelled_counter(
            "omnia_agent_connections_rejected_total", "WebSocket upgrades refused", "reason"
        )
        self.sessions_active = gauge("omnia_agent_sessions_active", "Connections bound to a session")
        self.requests_inflight = gauge("omnia_agent_requests_inflight", "Turns in flight")
        self.requests_total = labelled_counter("omnia_agent_requests_total", "Turns by outcome", "status")
        self.request_duration_seconds = _Labelled(
            Histogram(
                "omnia_agent_request_duration_seconds",
                "Turn duration",
                (*IDENTITY_LABELS, "handler"),
                buckets=DURATION_BUCKETS,
                registry=registry,
            ),
            identity,
        )
        self.messages_received_total = counter("omnia_agent_messages_received_total", "Client frames received")
        self.messages_sent_total = counter("omnia_agent_messages_sent_total", "Server frames sent")
        self.session_saves_failed_total = labelled_counter(
            "omnia_facade_session_saves_failed_total",
            "Session messages the store could not take (the turn went on; the log misses them)",
            "role",
        )
        self.warm_calls = gauge("omnia_facade_warm_calls", "Runtime calls open ahead of a session's next turn")
        self.uploads_total = labelled_counter("omnia_facade_uploads_total", "Media uploads by outcome", "status")
        self.upload_bytes_total = counter("omnia_facade_upload_bytes_total", "Bytes of media stored")
        self.upload_duration_seconds = Histogram(
            "omnia_facade_upload_duration_seconds", "Upload duration", IDENTITY_LABELS, registry=registry
        ).labels(**identity)
        self.downloads_total = labelled_counter("omnia_facade_downloads_total", "Media downloads by outcome", "status")
        self.download_bytes_total = counter("omnia_facade_download_bytes_total", "Bytes of media served")
