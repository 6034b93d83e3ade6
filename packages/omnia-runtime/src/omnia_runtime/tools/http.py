"""HTTP tool adapter (httpx).

Request shaping follows the upstream executor: the arguments go in a JSON body for POST/PUT/PATCH and in the
query string for GET/DELETE; ``urlTemplate`` placeholders ``{arg}`` take (URL-encoded) arguments out of the
payload, as do ``queryParams`` and ``headerParams``; ``staticQuery``/``staticBody`` are merged under the
model's values; ``bodyMapping`` (JMESPath over the remaining arguments) reshapes the body.

Response handling: only 2xx is success. A non-2xx answer becomes an error carrying the status and the first
512 bytes of the body; statuses in the retry policy's ``retryOn`` (default 429/502/503/504) are retryable and
honour ``Retry-After``; other 5xx count against the circuit breaker; 4xx are the request's fault. A 2xx body
that is not JSON is wrapped as ``{"result": text}``; ``responseMapping`` (JMESPath) then picks what the model
sees and ``redact`` replaces top-level fields with ``"[REDACTED]"``.

``send()`` and ``error_for_status()`` are shared with the OpenAPI adapter.
"""

import email.utils
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import jmespath
import jmespath.exceptions

from omnia_runtime.tools.adapter import MAX_RESPONSE_BYTES, context_metadata, spec_from_definition
from omnia_runtime.tools.auth import auth_headers
from omnia_runtime.tools.base import ToolCallContext, ToolResult, ToolSpec
from omnia_runtime.tools.config import HandlerConfig, HttpConfig, RetryPolicy
from omnia_runtime.tools.errors import ToolArgumentsError, ToolBackendError, ToolRejectedError

__all__ = ["HttpResponse", "HttpToolAdapter", "error_for_status", "parse_retry_after", "send"]

ERROR_BODY_LIMIT = 512
REDACTED = "[REDACTED]"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_\-.]*)\}")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: httpx.Headers
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


async def send(client: httpx.AsyncClient, request: httpx.Request, policy: RetryPolicy) -> HttpResponse:
    """Send one request and read at most MAX_RESPONSE_BYTES of the answer; transport failures become errors."""
    try:
        response = await client.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise ToolRejectedError(f"the tool's answer is larger than {MAX_RESPONSE_BYTES} bytes")
                chunks.append(chunk)
        finally:
            await response.aclose()
    except httpx.TimeoutException as e:
        raise ToolBackendError(
            f"{request.method} {request.url.host}: timed out ({type(e).__name__})",
            retryable=policy.retry_on_network_error,
        ) from e
    except httpx.TransportError as e:
        raise ToolBackendError(
            f"{request.method} {request.url.host}: connection failed ({type(e).__name__}: {e})",
            retryable=policy.retry_on_network_error,
        ) from e
    return HttpResponse(response.status_code, response.headers, b"".join(chunks))


def error_for_status(response: HttpResponse, policy: RetryPolicy) -> None:
    """Raise the error a non-2xx answer stands for; return for 2xx."""
    if 200 <= response.status < 300:
        return
    snippet = response.body[:ERROR_BODY_LIMIT].decode("utf-8", errors="replace")
    if len(response.body) > ERROR_BODY_LIMIT:
        snippet += "...(truncated)"
    message = f"HTTP {response.status}: {snippet}"
    if response.status in policy.retry_on:
        raise ToolBackendError(
            message, retryable=True, retry_after=parse_retry_after(response.headers.get("retry-after"))
        )
    if response.status >= 500:
        raise ToolBackendError(message, retryable=False)
    raise ToolRejectedError(message)


def decode_body(response: HttpResponse) -> Any:
    text = response.text()
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {"result": text}


def _jmespath(expression: str, data: Any, what: str) -> Any:
    try:
        return jmespath.search(expression, data)
    except jmespath.exceptions.JMESPathError as e:
        raise ToolRejectedError(f"{what} {expression!r} is not a valid JMESPath expression: {e}") from e


def _query_value(value: Any) -> str | list[str]:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [v if isinstance(v, str) else json.dumps(v) for v in value]
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def build_request(config: HttpConfig, arguments: Mapping[str, Any], headers: dict[str, str]) -> httpx.Request:
    payload = dict(arguments)
    url = config.endpoint
    if config.url_template:

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in payload:
                raise ToolArgumentsError(f"argument {name!r} is required by the URL template")
            value = payload.pop(name)
            return quote(value if isinstance(value, str) else json.dumps(value), safe="")

        url = _PLACEHOLDER.sub(substitute, config.url_template)
    for argument, header in config.header_params.items():
        if argument in payload:
            value = payload.pop(argument)
            headers[header] = value if isinstance(value, str) else json.dumps(value)
    query: dict[str, str | list[str]] = dict(config.static_query)
    for argument in config.query_params:
        if argument in payload:
            query[argument] = _query_value(payload.pop(argument))
    body: Any = payload
    if config.body_mapping:
        body = _jmespath(config.body_mapping, payload, "bodyMapping")
    if config.method in _BODY_METHODS:
        if isinstance(body, dict) and config.static_body:
            body = {**config.static_body, **body}
        if config.content_type.startswith("application/x-www-form-urlencoded") and isinstance(body, Mapping):
            form = [(str(k), v) for k, value in body.items() for v in _as_list(_query_value(value))]
            content = urlencode(form).encode("ascii")
        else:
            content = json.dumps(body).encode("utf-8")
        headers.setdefault("content-type", config.content_type)
        return httpx.Request(config.method, url, params=query, headers=headers, content=content)
    if isinstance(body, Mapping):
        for key, value in body.items():
            query[str(key)] = _query_value(value)
    return httpx.Request(config.method, url, params=query, headers=headers)


def shape_result(config: HttpConfig, value: Any) -> Any:
    if config.response_mapping:
        value = _jmespath(config.response_mapping, value, "responseMapping")
    if config.redact and isinstance(value, dict):
        value = {k: (REDACTED if k in config.redact else v) for k, v in value.items()}
    return value


class HttpToolAdapter:
    """Calls one HTTP endpoint per tool call (the handler's single declared tool)."""

    def __init__(self, handler: HandlerConfig, *, client: httpx.AsyncClient | None = None) -> None:
        if handler.http_config is None or handler.tool is None:
            raise ValueError("HttpToolAdapter needs an http handler with a tool")
        self.handler = handler
        self._config = handler.http_config
        self._client = client or httpx.AsyncClient(timeout=handler.timeout, follow_redirects=False)

    async def start(self) -> list[ToolSpec]:
        assert self.handler.tool is not None
        return [spec_from_definition(self.handler, self.handler.tool)]

    async def call(self, tool: ToolSpec, arguments: Mapping[str, Any], context: ToolCallContext) -> ToolResult:
        headers = {**self._config.headers, **context_metadata(context, self.handler)}
        headers.update(auth_headers(self._config))
        request = build_request(self._config, arguments, headers)
        policy = self.handler.retry_policy
        response = await send(self._client, request, policy)
        error_for_status(response, policy)
        return ToolResult(content=json.dumps(shape_result(self._config, decode_body(response))))

    async def aclose(self) -> None:
        await self._client.aclose()
