"""The WebSocket protocol: pydantic models of client and server messages, and their JSON encoding.

Client frames are parsed leniently (unknown fields ignored) but strictly typed; a frame that does not parse raises
``InvalidMessageError`` with a message naming the field. Server frames always carry an RFC 3339 ``timestamp`` and
omit unset fields, as the reference's Go structs do (``omitempty``).
"""

import json
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from omnia_facade.errors import ErrorCode, InvalidMessageError

PROTOCOL_VERSION = 1

CLIENT_MESSAGE_TYPES = frozenset(
    {"message", "tool_result", "tool_call_ack", "tool_call_nack", "upload_request", "hangup"}
)
SERVER_MESSAGE_TYPES = frozenset(
    {
        "connected",
        "chunk",
        "done",
        "tool_call",
        "tool_result",
        "error",
        "upload_ready",
        "upload_complete",
        "media_chunk",
        "interrupt",
        "session_config",
    }
)

MAX_PARTS = 64
MAX_METADATA_ENTRIES = 64


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class MediaContent(_Lenient):
    data: str | None = None
    url: str | None = None
    storage_ref: str | None = None
    mime_type: str = Field(min_length=1, max_length=255)
    filename: str | None = Field(default=None, max_length=1024)
    size_bytes: int | None = Field(default=None, ge=0)
    width: int | None = None
    height: int | None = None
    detail: Literal["low", "high", "auto"] | None = None
    duration_ms: int | None = None
    sample_rate: int | None = None
    channels: int | None = None


class ContentPart(_Lenient):
    type: Literal["text", "image", "audio", "video", "file"]
    text: str | None = None
    media: MediaContent | None = None


class UploadRequestInfo(_Lenient):
    filename: str = Field(min_length=1, max_length=1024)
    mime_type: str = Field(min_length=1, max_length=255)
    size_bytes: int = Field(ge=0)


class ToolResultInfo(_Lenient):
    call_id: str = Field(min_length=1, max_length=256)
    result: Any = None
    error: str | None = None


class ToolCallAck(_Lenient):
    call_id: str = Field(min_length=1, max_length=256)
    reason: str | None = None


class ClientMessage(_Lenient):
    """Every client frame shares this envelope; ``type`` says which fields matter."""

    type: str
    session_id: str | None = Field(default=None, max_length=256)
    content: str | None = None
    parts: list[ContentPart] | None = Field(default=None, max_length=MAX_PARTS)
    metadata: dict[str, str] | None = Field(default=None, max_length=MAX_METADATA_ENTRIES)
    upload_request: UploadRequestInfo | None = None
    tool_result: ToolResultInfo | None = None
    tool_call_ack: ToolCallAck | None = None
    tool_call_nack: ToolCallAck | None = None
    consent_grants: list[str] | None = Field(default=None, max_length=32)
    session_consent_grants: list[str] | None = Field(default=None, max_length=32)


def parse_client_message(text: str) -> ClientMessage:
    """Parse one text frame; raise ``InvalidMessageError`` saying what is wrong.

    A well-formed frame is parsed and validated in one pass; only a frame that fails is parsed again, step by step,
    to say what is wrong with it.
    """
    try:
        message = ClientMessage.model_validate_json(text)
    except ValidationError:
        message = None
    if message is None or message.type not in CLIENT_MESSAGE_TYPES:
        return _parse_step_by_step(text)
    return message


def _parse_step_by_step(text: str) -> ClientMessage:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidMessageError(f"frame is not valid JSON: {e.msg} at position {e.pos}") from e
    except (ValueError, RecursionError) as e:
        raise InvalidMessageError("frame is not valid JSON (too deeply nested or out of range)") from e
    if not isinstance(data, dict):
        raise InvalidMessageError("frame must be a JSON object with a 'type' field")
    kind = data.get("type")
    if not isinstance(kind, str) or not kind:
        raise InvalidMessageError("frame must have a string 'type' field")
    if kind not in CLIENT_MESSAGE_TYPES:
        known = ", ".join(sorted(CLIENT_MESSAGE_TYPES))
        raise InvalidMessageError(f"unknown message type {kind[:64]!r}: expected one of {known}")
    try:
        return ClientMessage.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "frame"
        raise InvalidMessageError(f"invalid {kind!r} message: {where}: {first['msg']}") from e


# ---------------------------------------------------------------- server messages


class Capabilities(BaseModel):
    binary_frames: bool
    max_payload_size: int
    protocol_version: int = PROTOCOL_VERSION


class ConnectedInfo(BaseModel):
    capabilities: Capabilities
    resumed: bool = False


class ToolCallInfo(BaseModel):
    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    consent_message: str | None = None
    categories: list[str] | None = None


class ErrorInfo(BaseModel):
    code: ErrorCode
    message: str
    details: dict[str, Any] | None = None


class UploadReadyInfo(BaseModel):
    upload_id: str
    upload_url: str
    storage_ref: str
    expires_at: str


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class ServerMessage(BaseModel):
    """The server envelope; ``encode`` fills in the timestamp and drops unset fields."""

    type: str
    session_id: str | None = None
    content: str | None = None
    role: str | None = None
    parts: list[ContentPart] | None = None
    tool_call: ToolCallInfo | None = None
    error: ErrorInfo | None = None
    upload_ready: UploadReadyInfo | None = None
    connected: ConnectedInfo | None = None
    usage: Usage | None = None
    timestamp: str = ""

    def encode(self) -> str:
        if not self.timestamp:
            self.timestamp = now_rfc3339()
        return self.model_dump_json(exclude_none=True)


class _Clock:
    """RFC 3339 UTC timestamps with milliseconds; the date and time of day are formatted once per second."""

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def format(self, at: float) -> str:
        second = int(at)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._prefix}.{int((at - second) * 1000):03d}Z"

    def now(self) -> str:
        return self.format(time.time())


_CLOCK = _Clock()
rfc3339 = _CLOCK.format
"""A ``time.time()`` value as RFC 3339 UTC with milliseconds, e.g. ``2026-11-22T01:03:17.374Z``."""
now_rfc3339 = _CLOCK.now
"""The current time as ``rfc3339`` formats it."""

_FRAME_JSON = json.JSONEncoder(ensure_ascii=False, check_circular=False)


def chunk_frame(session_id: str, content: str) -> str:
    """The hot-path ``chunk`` frame, encoded without building a model."""
    return _FRAME_JSON.encode(
        {"type": "chunk", "session_id": session_id, "content": content, "timestamp": now_rfc3339()}
    )


def error_frame(session_id: str | None, code: ErrorCode, message: str) -> str:
    return ServerMessage(type="error", session_id=session_id, error=ErrorInfo(code=code, message=message)).encode()


def connected_frame(session_id: str, *, max_payload_size: int, binary_frames: bool, resumed: bool) -> str:
    info = ConnectedInfo(
        capabilities=Capabilities(binary_frames=binary_frames, max_payload_size=max_payload_size), resumed=resumed
    )
    return ServerMessage(type="connected", session_id=session_id, connected=info).encode()
