"""Errors of the Kubernetes adapter: one class per answer the operator reacts to differently.

`KubeClient` maps every API answer and connection failure onto this tree in one place
(`omnia_operator.kube.client.error_from_response`); nothing past the adapter sees `kubernetes_asyncio` errors.
"""


class KubeError(Exception):
    """An API request failed. `status` is the HTTP code (0 for connection failures), `reason` the Status reason."""

    def __init__(self, message: str, *, status: int = 0, reason: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason


class NotFoundError(KubeError):
    """404: the object (or its kind) does not exist."""


class ConflictError(KubeError):
    """409: the object changed since it was read (stale resourceVersion); read it again and retry."""


class AlreadyExistsError(KubeError):
    """409 AlreadyExists: an object with this name exists; get or replace it instead."""


class GoneError(KubeError):
    """410: the resourceVersion is too old to watch from; list again."""


class InvalidError(KubeError):
    """422: the API rejected the object; `message` is the API's own text naming the field."""


class BadRequestError(KubeError):
    """400 (or 415 for an unsupported patch content type): the request itself is malformed."""


class ForbiddenError(KubeError):
    """401/403: the operator's ServiceAccount lacks the RBAC permission named in the message."""


class TransientKubeError(KubeError):
    """429, 5xx or a connection failure: worth retrying, after `retry_after` seconds when the server said so."""

    def __init__(self, message: str, *, status: int = 0, reason: str = "", retry_after: float | None = None) -> None:
        super().__init__(message, status=status, reason=reason)
        self.retry_after = retry_after
