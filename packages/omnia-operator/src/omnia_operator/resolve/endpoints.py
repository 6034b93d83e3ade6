"""Where a tool handler is reached: its configured endpoint, or a Service found by label selector.

A handler with `selector` resolves to the cluster DNS name of the one Service carrying those labels
(`<svc>.<ns>.svc.cluster.local:<port>`). URL endpoints keep their scheme and path and only get the new
host and port, so `http://placeholder/api/v1` with a selector becomes `http://weather.tools.svc...:8080/api/v1`.
Several matching Services are ambiguous and reported, not guessed (the first by name would silently change
when someone adds a Service).
"""

from urllib.parse import urlsplit, urlunsplit

from omnia_operator.api.models.toolregistry import Handler
from omnia_operator.kube.resources import KubeObject

MAX_SERVICES = 64


def configured_endpoint(handler: Handler) -> str | None:
    if handler.http_config:
        return handler.http_config.endpoint
    if handler.grpc_config:
        return handler.grpc_config.endpoint
    if handler.mcp_config:
        return handler.mcp_config.endpoint
    if handler.open_api_config:
        return handler.open_api_config.spec_url
    return None


def selector_string(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def endpoint_from_services(handler: Handler, namespace: str, services: list[KubeObject]) -> tuple[str | None, str]:
    """(endpoint, "") when exactly one Service matches the handler's selector, else (None, what is wrong)."""
    selector = handler.selector
    assert selector is not None
    wanted = selector_string(selector.match_labels)
    if not services:
        return None, f"handler {handler.name}: no Service in namespace {namespace} matches {wanted}"
    if len(services) > 1:
        names = ", ".join(sorted(str((s.get("metadata") or {}).get("name")) for s in services[:MAX_SERVICES]))
        return None, f"handler {handler.name}: several Services match {wanted} ({names}); make the labels unique"
    service = services[0]
    name = (service.get("metadata") or {}).get("name")
    ports = [p for p in ((service.get("spec") or {}).get("ports") or []) if isinstance(p, dict)]
    port = selector.port
    if port is None:
        if not ports:
            return None, f"handler {handler.name}: Service {name} has no ports; set selector.port"
        port = int(ports[0].get("port") or 0)
    elif ports and all(int(p.get("port") or 0) != port for p in ports):
        return None, f"handler {handler.name}: Service {name} has no port {port}"
    host = f"{name}.{namespace}.svc.cluster.local:{port}"
    return with_host(handler, host), ""


def with_host(handler: Handler, host: str) -> str:
    """The configured endpoint with its host:port replaced (grpc endpoints are plain host:port)."""
    if handler.type == "grpc":
        return host
    configured = configured_endpoint(handler) or ""
    parts = urlsplit(configured)
    if not parts.scheme or not parts.netloc:
        return f"http://{host}{parts.path if parts.path.startswith('/') else ''}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
