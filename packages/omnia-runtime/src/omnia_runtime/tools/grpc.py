"""gRPC tool adapter (grpc.aio) for backends implementing ``omnia.tools.v1.ToolService``.

``Execute`` carries the tool name, the arguments as JSON and the ``x-omnia-*`` context in ``metadata``; the
same context, plus the credential from ``authTokenPath``, also goes out as call metadata. ``ListTools`` is
used for discovery only when the handler declares no inline ``tool``.

Failures: the policy's ``retryableStatusCodes`` (default UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED)
are retried; those and INTERNAL/UNKNOWN/DATA_LOSS count against the circuit breaker; other codes (e.g.
INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED) are the request's fault. A response with ``is_error`` is the
tool's own failure and goes back to the model as an error result.

TLS: ``tls: true`` uses the system roots, or ``tlsCAPath``; ``tlsCertPath``/``tlsKeyPath`` add a client
certificate (mTLS). gRPC Python cannot switch certificate verification off. ``tlsInsecureSkipVerify`` is
therefore approximated: when no CA is configured, the certificate the server presents at start-up is fetched
and trusted as its own root (trust on first use). That accepts self-signed and private-CA servers, but the
certificate must still name the endpoint's host (hostname checking stays on) and a certificate rotated on the
server needs a runtime restart.
"""

import asyncio
import json
import logging
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import grpc
import grpc.aio

from omnia_protos.tools.v1 import tools_pb2, tools_pb2_grpc
from omnia_runtime.tools.adapter import MAX_RESPONSE_BYTES, context_metadata, spec_from_definition
from omnia_runtime.tools.auth import auth_headers
from omnia_runtime.tools.base import ToolCallContext, ToolResult, ToolSpec
from omnia_runtime.tools.config import GrpcConfig, HandlerConfig
from omnia_runtime.tools.errors import ToolBackendError, ToolDiscoveryError, ToolRejectedError

__all__ = ["GrpcToolAdapter"]

logger = logging.getLogger(__name__)

_BACKEND_FAULTS = frozenset({grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DATA_LOSS})
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_RESPONSE_BYTES),
    ("grpc.enable_retries", 0),
]


def _target(endpoint: str) -> str:
    for prefix in ("grpc://", "grpcs://", "http://", "https://"):
        if endpoint.startswith(prefix):
            return endpoint.removeprefix(prefix).rstrip("/")
    return endpoint


def _read(path: str | None, what: str) -> bytes | None:
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise ToolDiscoveryError(f"cannot read the {what} {path}: {e.strerror}") from e


async def _presented_certificate(target: str) -> bytes:
    host, _, port = target.rpartition(":")
    certificate = await asyncio.to_thread(ssl.get_server_certificate, (host.strip("[]"), int(port)), timeout=10)
    return certificate.encode("ascii")


async def _credentials(config: GrpcConfig, target: str) -> grpc.ChannelCredentials:
    roots = _read(config.tls_ca_path, "CA bundle (tlsCAPath)")
    if roots is None and config.tls_insecure_skip_verify:
        logger.warning("grpc handler %s: tlsInsecureSkipVerify trusts the certificate the server presents now", target)
        roots = await _presented_certificate(target)
    return grpc.ssl_channel_credentials(
        root_certificates=roots,
        private_key=_read(config.tls_key_path, "client key (tlsKeyPath)"),
        certificate_chain=_read(config.tls_cert_path, "client certificate (tlsCertPath)"),
    )


class GrpcToolAdapter:
    def __init__(self, handler: HandlerConfig) -> None:
        if handler.grpc_config is None:
            raise ValueError("GrpcToolAdapter needs a grpc handler")
        self.handler = handler
        self._config = handler.grpc_config
        self._channel: grpc.aio.Channel | None = None
        self._stub: tools_pb2_grpc.ToolServiceAsyncStub | None = None

    async def _connect(self) -> "tools_pb2_grpc.ToolServiceAsyncStub":  # the async stub type exists in the .pyi only
        if self._stub is None:
            target = _target(self._config.endpoint)
            if self._config.tls:
                credentials = await _credentials(self._config, target)
                self._channel = grpc.aio.secure_channel(target, credentials, options=_CHANNEL_OPTIONS)
            else:
                self._channel = grpc.aio.insecure_channel(target, options=_CHANNEL_OPTIONS)
            self._stub = tools_pb2_grpc.ToolServiceStub(self._channel)
        return self._stub

    def _metadata(self, context: ToolCallContext | None) -> list[tuple[str, str]]:
        pairs = {k.lower(): v for k, v in auth_headers(self._config).items()}
        if context is not None:
            pairs.update(context_metadata(context, self.handler))
        return list(pairs.items())

    async def start(self) -> list[ToolSpec]:
        stub = await self._connect()
        if self.handler.tool is not None:
            return [spec_from_definition(self.handler, self.handler.tool)]
        try:
            response = await stub.ListTools(
                tools_pb2.ListToolsRequest(), metadata=self._metadata(None), timeout=self.handler.timeout
            )
        except grpc.aio.AioRpcError as e:
            raise ToolDiscoveryError(f"ListTools on {self._config.endpoint}: {e.code().name}: {e.details()}") from e
        specs: list[ToolSpec] = []
        for info in response.tools:
            try:
                schema: Any = json.loads(info.input_schema) if info.input_schema else {"type": "object"}
            except ValueError:
                logger.warning("grpc handler %s: tool %s has an invalid input schema", self.handler.name, info.name)
                continue
            if not isinstance(schema, dict):
                continue
            specs.append(ToolSpec(info.name, info.description, schema, handler=self.handler.name))
        return specs

    async def call(self, tool: ToolSpec, arguments: Mapping[str, Any], context: ToolCallContext) -> ToolResult:
        stub = await self._connect()
        metadata = context_metadata(context, self.handler)
        request = tools_pb2.ToolRequest(
            tool_name=tool.name, arguments_json=json.dumps(dict(arguments)), metadata=metadata
        )
        try:
            response = await stub.Execute(request, metadata=self._metadata(context), timeout=self.handler.timeout)
        except grpc.aio.AioRpcError as e:
            code = e.code()
            message = f"gRPC {code.name}: {e.details() or 'no details'}"
            if code.name in self.handler.retry_policy.retryable_status_codes:
                raise ToolBackendError(message, retryable=True) from e
            if code in _BACKEND_FAULTS or code == grpc.StatusCode.UNAVAILABLE:
                raise ToolBackendError(message, retryable=False) from e
            raise ToolRejectedError(message) from e
        if response.is_error:
            return ToolResult.error(response.error_message or response.result_json or "the tool reported an error")
        return ToolResult(content=response.result_json or "null")

    async def aclose(self) -> None:
        channel, self._channel, self._stub = self._channel, None, None
        if channel is not None:
            await channel.close(grace=None)
