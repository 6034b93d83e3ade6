"""Credentials for tool backends, read from a file on every call.

The operator mounts the handler's secret at ``authTokenPath``; reading it per call means a rotated Secret is
used as soon as the kubelet refreshes the file, without restarting the agent. For ``basic`` the file holds
``user:password``. The value never appears in logs or error messages, only the path does.

The HTTP, gRPC and OpenAPI adapters build each request themselves and call ``auth_headers`` for it. The MCP
HTTP transports (``sse``, ``streamable-http``) send many requests over one long-lived session, built inside
the ``mcp`` package; ``CredentialFileAuth`` is an ``httpx2.Auth`` flow handed to that session's client, so
every request it sends (each ``tools/call`` POST included) reads the file again, and a rotated token is used
by the next call without reconnecting.
"""

import asyncio
import base64
from collections.abc import AsyncGenerator, Callable, Generator
from pathlib import Path

import httpx2

from omnia_runtime.tools.config import AuthFields
from omnia_runtime.tools.errors import ToolRejectedError

__all__ = ["MAX_CREDENTIAL_BYTES", "CredentialFileAuth", "auth_headers", "has_credential"]

MAX_CREDENTIAL_BYTES = 64 * 1024


def _read_credential(path: str) -> str:
    file = Path(path)
    try:
        with file.open("rb") as handle:
            raw = handle.read(MAX_CREDENTIAL_BYTES + 1)
    except OSError as e:
        raise ToolRejectedError(f"cannot read the credential file {path}: {e.strerror}") from None
    if len(raw) > MAX_CREDENTIAL_BYTES:
        raise ToolRejectedError(f"the credential file {path} is larger than {MAX_CREDENTIAL_BYTES} bytes")
    value = raw.decode("utf-8", errors="replace").strip()
    if not value:
        raise ToolRejectedError(f"the credential file {path} is empty")
    return value


def has_credential(auth: AuthFields) -> bool:
    """Whether the handler sends a credential read from ``authTokenPath``."""
    return auth.auth_type not in (None, "none") and bool(auth.auth_token_path)


def auth_headers(auth: AuthFields) -> dict[str, str]:
    """Headers carrying the handler's credential (empty when the handler has no auth)."""
    if not has_credential(auth) or not auth.auth_token_path:
        return {}
    credential = _read_credential(auth.auth_token_path)
    if auth.auth_type == "basic":
        if ":" not in credential:
            raise ToolRejectedError(f"the credential file {auth.auth_token_path} must hold user:password for basic")
        encoded = base64.b64encode(credential.encode("utf-8")).decode("ascii")
        return {auth.auth_header: f"Basic {encoded}"}
    return {auth.auth_header: f"Bearer {credential}"}


REFUSED_STATUSES = frozenset({401, 403})


class CredentialFileAuth(httpx2.Auth):
    """Sets the handler's credential header on every request, from the file as it is at that moment.

    A file that cannot be read raises ``ToolRejectedError`` (naming the path) out of the request. ``on_refused``,
    when given, is called with the status of every response that refuses the credential (401, 403).
    """

    def __init__(self, auth: AuthFields, *, on_refused: Callable[[int], None] | None = None) -> None:
        self._auth = auth
        self._on_refused = on_refused

    def sync_auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        request.headers.update(auth_headers(self._auth))
        response = yield request
        self._check(response)

    async def async_auth_flow(self, request: httpx2.Request) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        request.headers.update(await asyncio.to_thread(auth_headers, self._auth))
        response = yield request
        self._check(response)

    def _check(self, response: httpx2.Response) -> None:
        if self._on_refused is not None and response.status_code in REFUSED_STATUSES:
            self._on_refused(response.status_code)
