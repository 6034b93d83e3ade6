"""Failure answers of the fake API as `Status` objects, worded like the real API server's.

Each constructor mirrors one helper of k8s.io/apimachinery's `errors` package, so messages such as
`configmaps "x" not found` or `... the object has been modified; please apply your changes to the latest
version and try again` read exactly like a real cluster's.
"""

from typing import Any


class StatusError(Exception):
    """Raised inside the fake; the server turns it into a `Status` answer with `code` as the HTTP status."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.retry_after = retry_after

    def to_status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            status["details"] = self.details
        return status


def _details(resource: str, name: str) -> dict[str, Any]:
    kind, _, group = resource.partition(".")
    details: dict[str, Any] = {"name": name, "kind": kind}
    if group:
        details["group"] = group
    return details


def not_found(resource: str, name: str) -> StatusError:
    return StatusError(404, "NotFound", f'{resource} "{name}" not found', details=_details(resource, name))


def already_exists(resource: str, name: str) -> StatusError:
    return StatusError(409, "AlreadyExists", f'{resource} "{name}" already exists', details=_details(resource, name))


def conflict(resource: str, name: str, why: str) -> StatusError:
    return StatusError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {resource} "{name}": {why}',
        details=_details(resource, name),
    )


def stale_resource_version(resource: str, name: str) -> StatusError:
    return conflict(
        resource, name, "the object has been modified; please apply your changes to the latest version and try again"
    )


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str, str]]) -> StatusError:
    """422 Invalid; each cause is (field, reason, message) like `field.ErrorList` entries."""
    qualified = f"{kind}.{group}" if group else kind
    summary = ", ".join(f"{field}: {message}" for field, _, message in causes)
    joined = f"[{summary}]" if len(causes) > 1 else summary
    details: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "causes": [{"reason": reason, "message": message, "field": field} for field, reason, message in causes],
    }
    if group:
        details["group"] = group
    return StatusError(422, "Invalid", f'{qualified} "{name}" is invalid: {joined}', details=details)


def bad_request(message: str) -> StatusError:
    return StatusError(400, "BadRequest", message)


def unsupported_media_type(content_type: str, supported: list[str]) -> StatusError:
    accepted = ", ".join(supported)
    message = f"the body of the request was in an unknown format - accepted media types include: {accepted}"
    return StatusError(415, "UnsupportedMediaType", message if content_type else message.split(" - ")[0])


def gone(requested: str, oldest: int) -> StatusError:
    return StatusError(410, "Expired", f"too old resource version: {requested} ({oldest})")


def method_not_allowed(message: str) -> StatusError:
    return StatusError(405, "MethodNotAllowed", message)


def internal_error(message: str) -> StatusError:
    return StatusError(500, "InternalError", message)


def too_many_requests(retry_after: int) -> StatusError:
    return StatusError(
        429, "TooManyRequests", "the server has received too many requests and has asked us to try again later",
        details={"retryAfterSeconds": retry_after}, retry_after=retry_after,
    )  # fmt: skip
