"""Errors of the facade and the one table that maps them to WebSocket error codes.

Everything the facade reports to a client goes through ``error_code_for``: an exception's class (or its nearest
ancestor in ``WEBSOCKET_ERROR_CODES``) decides the code. Messages are written for the client: they say what to
change and never contain secrets or tokens.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID_MESSAGE = "INVALID_MESSAGE"
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    SESSION_EXPIRED = "SESSION_EXPIRED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    AGENT_UNAVAILABLE = "AGENT_UNAVAILABLE"
    TOOL_FAILED = "TOOL_FAILED"
    UPLOAD_FAILED = "UPLOAD_FAILED"
    MEDIA_NOT_ENABLED = "MEDIA_NOT_ENABLED"
    RATE_LIMITED = "RATE_LIMITED"


class FacadeError(Exception):
    """Root of every error the facade raises on purpose."""


class ConfigError(FacadeError):
    """The facade's configuration cannot work (bad setting, unreadable key file...)."""


class InvalidMessageError(FacadeError):
    """A client frame is not a valid protocol message."""


class SessionNotFoundError(FacadeError):
    """A session id that the facade never issued."""


class SessionExpiredError(FacadeError):
    """A session id to resume that is unknown or has expired."""


class SessionStoreError(FacadeError):
    """The session store cannot be reached or answered nonsense."""


class AgentUnavailableError(FacadeError):
    """The runtime is unreachable or failed in the middle of a turn."""


class RuntimeTurnError(FacadeError):
    """The runtime reported an error for the turn (its own ``Error`` frame)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.runtime_code = code


class ToolFailedError(FacadeError):
    """A client-side tool round trip failed."""


class UploadFailedError(FacadeError):
    """A media upload was refused or could not be stored."""


class UploadTooLargeError(UploadFailedError):
    """An upload is larger than the configured limit."""


class UnsupportedMediaTypeError(UploadFailedError):
    """An upload's MIME type is not on the allow-list."""


class MediaNotFoundError(FacadeError):
    """A media id or upload id that does not exist (or expired)."""


class MediaNotEnabledError(FacadeError):
    """Media storage is off (``OMNIA_MEDIA_STORAGE_TYPE=none``)."""


class RateLimitedError(FacadeError):
    """Too many messages, or a second turn while one is in flight."""


class AuthError(FacadeError):
    """Credentials missing or invalid: the upgrade is refused with 401."""


class OriginNotAllowedError(FacadeError):
    """A browser origin that is not in ``OMNIA_ALLOWED_ORIGINS``: refused with 403."""


WEBSOCKET_ERROR_CODES: dict[type[BaseException], ErrorCode] = {
    InvalidMessageError: ErrorCode.INVALID_MESSAGE,
    SessionNotFoundError: ErrorCode.SESSION_NOT_FOUND,
    SessionExpiredError: ErrorCode.SESSION_EXPIRED,
    SessionStoreError: ErrorCode.INTERNAL_ERROR,
    AgentUnavailableError: ErrorCode.AGENT_UNAVAILABLE,
    RuntimeTurnError: ErrorCode.INTERNAL_ERROR,
    ToolFailedError: ErrorCode.TOOL_FAILED,
    UploadFailedError: ErrorCode.UPLOAD_FAILED,
    MediaNotFoundError: ErrorCode.INVALID_MESSAGE,
    MediaNotEnabledError: ErrorCode.MEDIA_NOT_ENABLED,
    RateLimitedError: ErrorCode.RATE_LIMITED,
}


def error_code_for(exc: BaseException) -> ErrorCode:
    """The WebSocket error code for an exception; anything unexpected is ``INTERNAL_ERROR``."""
    if isinstance(exc, RuntimeTurnError) and exc.runtime_code in ErrorCode.__members__:
        return ErrorCode(exc.runtime_code)
    for klass in type(exc).__mro__:
        code = WEBSOCKET_ERROR_CODES.get(klass)
        if code is not None:
            return code
    return ErrorCode.INTERNAL_ERROR


def client_message_for(exc: BaseException) -> str:
    """The text a client sees: our own messages verbatim, a generic one for anything unexpected."""
    if isinstance(exc, FacadeError):
        return str(exc) or type(exc).__name__
    return "internal error: the facade failed to handle the message; see the facade logs"
