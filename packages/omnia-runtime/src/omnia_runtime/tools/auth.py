"""Credentials for tool backends, read from a file on every call.

The operator mounts the handler's secret at ``authTokenPath``; reading it per call means a rotated Secret is
used as soon as the kubelet refreshes the file, without restarting the agent. For ``basic`` the file holds
``user:password``. The value never appears in logs or error messages, only the path does.
"""

import base64
from pathlib import Path

from omnia_runtime.tools.config import AuthFields
from omnia_runtime.tools.errors import ToolRejectedError

__all__ = ["MAX_CREDENTIAL_BYTES", "auth_headers"]

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


def auth_headers(auth: AuthFields) -> dict[str, str]:
    """Headers carrying the handler's credential (empty when the handler has no auth)."""
    if auth.auth_type in (None, "none") or not auth.auth_token_path:
        return {}
    credential = _read_credential(auth.auth_token_path)
    if auth.auth_type == "basic":
        if ":" not in credential:
            raise ToolRejectedError(f"the credential file {auth.auth_token_path} must hold user:password for basic")
        encoded = base64.b64encode(credential.encode("utf-8")).decode("ascii")
        return {auth.auth_header: f"Basic {encoded}"}
    return {auth.auth_header: f"Bearer {credential}"}
