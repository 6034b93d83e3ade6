"""OpenAPI tool adapter (openapi-core): one tool per operation of a spec fetched from ``specURL``.

At start-up the spec is loaded (``http(s)://`` through httpx, ``file://`` or a plain path from disk; JSON or
YAML, at most MAX_SPEC_BYTES) and checked by openapi-core. Each operation becomes a tool named by its
``operationId``, or ``<method>_<path>`` made identifier-safe when it has none; ``operationFilter`` keeps only
the listed names. The tool's input schema has one property per path/query/header parameter and a ``body``
property for a JSON request body; local ``$ref``s are inlined so the model gets self-contained schemas.

A call builds the request against ``baseURL`` (or the spec's first server, resolved against the spec URL
when relative), validates it with openapi-core BEFORE sending (a mismatch is reported to the model, nothing
is sent), sends it with the HTTP adapter's transport code (same error classes, retries and truncation), and
validates a 2xx response against the spec afterwards: a response that breaks its contract is an error result.
"""

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx
import yaml
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.exceptions import OpenAPIError
from werkzeug.datastructures import Headers, ImmutableMultiDict

from omnia_runtime.tools.adapter import context_metadata
from omnia_runtime.tools.auth import auth_headers
from omnia_runtime.tools.base import ToolCallContext, ToolResult, ToolSpec
from omnia_runtime.tools.config import HandlerConfig, OpenAPIConfig
from omnia_runtime.tools.errors import ToolArgumentsError, ToolDiscoveryError, ToolRejectedError
from omnia_runtime.tools.http import HttpResponse, decode_body, error_for_status, send

__all__ = ["OpenAPIToolAdapter", "operation_tool_name"]

MAX_SPEC_BYTES = 8 * 1024 * 1024
MAX_REF_DEPTH = 32
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]+")


def operation_tool_name(method: str, path: str, operation_id: str | None) -> str:
    if operation_id:
        return operation_id
    return _NOT_IDENTIFIER.sub("_", f"{method} {path}").strip("_").lower()


def _inline_refs(node: Any, spec: Mapping[str, Any], depth: int = 0) -> Any:
    """Replace local ``#/...`` references by their targets (recursive ones end as an open schema)."""
    if depth > MAX_REF_DEPTH:
        return {}
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = spec
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part) if isinstance(target, Mapping) else None
            return _inline_refs(target or {}, spec, depth + 1)
        return {k: _inline_refs(v, spec, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_refs(v, spec, depth + 1) for v in node]
    return node


@dataclass(frozen=True)
class _Operation:
    name: str
    method: str
    path: str
    parameters: tuple[tuple[str, str], ...]
    """(name, location) with location in path, query, header."""
    has_body: bool
    schema: dict[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass
class _ValidationRequest:
    """The request as openapi-core's Request protocol wants it."""

    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    body: bytes | None
    content_type: str


@dataclass
class _ValidationResponse:
    status_code: int
    headers: Headers
    data: bytes
    content_type: str


def _operations(spec: Mapping[str, Any], wanted: list[str]) -> list[_Operation]:
    operations: list[_Operation] = []
    paths = spec.get("paths") or {}
    for path, raw_item in paths.items():
        item = _inline_refs(raw_item, spec)
        if not isinstance(item, Mapping):
            continue
        shared = [p for p in item.get("parameters", []) if isinstance(p, Mapping)]
        for method in _METHODS:
            operation = item.get(method)
            if not isinstance(operation, Mapping):
                continue
            name = operation_tool_name(method, path, operation.get("operationId"))
            if wanted and name not in wanted:
                continue
            merged: dict[tuple[str, str], Mapping[str, Any]] = {}
            for parameter in [*shared, *[p for p in operation.get("parameters", []) if isinstance(p, Mapping)]]:
                merged[(str(parameter.get("name")), str(parameter.get("in")))] = parameter
            properties: dict[str, Any] = {}
            required: list[str] = []
            used: list[tuple[str, str]] = []
            for (param_name, location), parameter in merged.items():
                if location not in ("path", "query", "header"):
                    continue
                schema = dict(parameter.get("schema") or {"type": "string"})
                if parameter.get("description"):
                    schema["description"] = parameter["description"]
                properties[param_name] = schema
                used.append((param_name, location))
                if location == "path" or parameter.get("required"):
                    required.append(param_name)
            body = operation.get("requestBody")
            has_body = False
            if isinstance(body, Mapping):
                media = (body.get("content") or {}).get("application/json")
                if isinstance(media, Mapping):
                    has_body = True
                    properties["body"] = media.get("schema") or {}
                    if body.get("required"):
                        required.append("body")
            schema = {"type": "object", "properties": properties, "required": required}
            description = str(operation.get("summary") or operation.get("description") or f"{method.upper()} {path}")
            operations.append(_Operation(name, method, path, tuple(used), has_body, schema, description))
    return operations


def _describe(error: Exception) -> str:
    parts = [str(error)]
    cause = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None) or getattr(error, "schema_errors", None)
    if schema_errors:
        parts.extend(getattr(e, "message", str(e)) for e in list(schema_errors)[:5])
    elif cause is not None:
        parts.append(str(cause))
    return ": ".join(p for p in parts if p)


class OpenAPIToolAdapter:
    def __init__(self, handler: HandlerConfig, *, client: httpx.AsyncClient | None = None) -> None:
        if handler.openapi_config is None:
            raise ValueError("OpenAPIToolAdapter needs an openapi handler")
        self.handler = handler
        self._config: OpenAPIConfig = handler.openapi_config
        self._client = client or httpx.AsyncClient(timeout=handler.timeout, follow_redirects=False)
        self._operations: dict[str, _Operation] = {}
        self._openapi: OpenAPI | None = None
        self._base_url = ""

    async def _load_spec(self) -> dict[str, Any]:
        url = self._config.spec_url
        if url.startswith(("http://", "https://")):
            try:
                response = await self._client.get(url, headers={**self._config.headers, **auth_headers(self._config)})
            except httpx.HTTPError as e:
                raise ToolDiscoveryError(f"cannot fetch the OpenAPI spec {url}: {type(e).__name__}") from e
            if response.status_code != 200:
                raise ToolDiscoveryError(f"fetching the OpenAPI spec {url} answered HTTP {response.status_code}")
            raw = response.content
        else:
            path = Path(url.removeprefix("file://"))
            try:
                raw = await asyncio.to_thread(path.read_bytes)
            except OSError as e:
                raise ToolDiscoveryError(f"cannot read the OpenAPI spec {path}: {e.strerror}") from e
        if len(raw) > MAX_SPEC_BYTES:
            raise ToolDiscoveryError(f"the OpenAPI spec {url} is larger than {MAX_SPEC_BYTES} bytes")
        try:
            data = yaml.safe_load(raw)  # JSON is YAML
        except yaml.YAMLError as e:
            raise ToolDiscoveryError(f"the OpenAPI spec {url} is neither JSON nor YAML: {e}") from e
        if not isinstance(data, dict) or "paths" not in data:
            raise ToolDiscoveryError(f"the OpenAPI spec {url} has no 'paths'")
        return data

    def _resolve_base_url(self, spec: Mapping[str, Any]) -> str:
        if self._config.base_url:
            return self._config.base_url.rstrip("/")
        servers = spec.get("servers") or []
        server = servers[0].get("url", "") if servers and isinstance(servers[0], Mapping) else ""
        if self._config.spec_url.startswith(("http://", "https://")):
            return urljoin(self._config.spec_url, server or "/").rstrip("/")
        if not server.startswith(("http://", "https://")):
            raise ToolDiscoveryError("the OpenAPI spec has no absolute server URL; set openAPIConfig.baseURL")
        return server.rstrip("/")

    async def start(self) -> list[ToolSpec]:
        spec = await self._load_spec()
        self._base_url = self._resolve_base_url(spec)
        try:
            self._openapi = OpenAPI.from_dict({**spec, "servers": [{"url": self._base_url}]})
        except OpenAPIError as e:
            raise ToolDiscoveryError(f"the OpenAPI spec {self._config.spec_url} is invalid: {e}") from e
        except Exception as e:  # openapi-spec-validator raises its own tree for broken specs
            raise ToolDiscoveryError(f"the OpenAPI spec {self._config.spec_url} is invalid: {e}") from e
        operations = _operations(spec, self._config.operation_filter)
        self._operations = {op.name: op for op in operations}
        return [ToolSpec(op.name, op.description, op.schema, handler=self.handler.name) for op in operations]

    def _build(self, operation: _Operation, arguments: Mapping[str, Any], headers: dict[str, str]) -> httpx.Request:
        path = operation.path
        query: dict[str, str] = {}
        for name, location in operation.parameters:
            if name not in arguments:
                continue
            value = arguments[name]
            text = value if isinstance(value, str) else json.dumps(value)
            if location == "path":
                path = path.replace("{" + name + "}", quote(text, safe=""))
            elif location == "query":
                query[name] = text
            else:
                headers[name] = text
        content = None
        if operation.has_body and "body" in arguments:
            content = json.dumps(arguments["body"]).encode("utf-8")
            headers["content-type"] = "application/json"
        return httpx.Request(
            operation.method.upper(), self._base_url + path, params=query, headers=headers, content=content
        )

    def _validation_request(self, request: httpx.Request) -> _ValidationRequest:
        url = urlsplit(str(request.url))
        return _ValidationRequest(
            host_url=f"{url.scheme}://{url.netloc}",
            path=url.path,
            method=request.method.lower(),
            parameters=RequestParameters(
                query=ImmutableMultiDict(list(request.url.params.multi_items())),
                header=Headers(list(request.headers.items())),
                cookie=ImmutableMultiDict(),
            ),
            body=request.content or None,
            content_type=request.headers.get("content-type", ""),
        )

    async def call(self, tool: ToolSpec, arguments: Mapping[str, Any], context: ToolCallContext) -> ToolResult:
        operation = self._operations.get(tool.name)
        if operation is None or self._openapi is None:
            raise ToolRejectedError(f"the OpenAPI handler {self.handler.name} has no operation {tool.name}")
        headers = {**self._config.headers, **context_metadata(context, self.handler)}
        headers.update(auth_headers(self._config))
        request = self._build(operation, arguments, headers)
        checked = self._validation_request(request)
        try:
            self._openapi.validate_request(checked)
        except OpenAPIError as e:
            raise ToolArgumentsError(f"the request does not match the OpenAPI spec: {_describe(e)}") from e
        policy = self.handler.retry_policy
        response = await send(self._client, request, policy)
        error_for_status(response, policy)
        self._validate_response(checked, response)
        return ToolResult(content=json.dumps(decode_body(response)))

    def _validate_response(self, request: _ValidationRequest, response: HttpResponse) -> None:
        assert self._openapi is not None
        content_type = response.content_type.split(";")[0].strip() or "application/json"
        candidate = _ValidationResponse(
            response.status, Headers(list(response.headers.items())), response.body, content_type
        )
        try:
            self._openapi.validate_response(request, candidate)
        except OpenAPIError as e:
            raise ToolRejectedError(f"the response does not match the OpenAPI spec: {_describe(e)}") from e

    async def aclose(self) -> None:
        await self._client.aclose()
