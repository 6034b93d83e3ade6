"""HTTP endpoints of local media storage, mounted on the WebSocket listener.

``POST /media/request-upload`` answers with snake_case fields (as ``upload_ready`` does on the socket) and also the
Go field names (``UploadID``, ``URL``, ``StorageRef``, ``ExpiresAt``, ``Method``) so clients of the Go facade work
unchanged. Every endpoint needs the same credentials as the WebSocket upgrade (401 otherwise, before anything else
is looked at).

An upload is tied to a conversation: ``session_id`` must name a session in the session store (one that a WebSocket
connection has used: sent a ``message`` or an ``upload_request``), else 404 with ``code: SESSION_NOT_FOUND``. When
auth is on and the store recorded the session's owner (``Session.user_id``, the caller's ``Identity.subject``),
only that caller may upload to it (403 otherwise). The upload id and the stored media then remember the requester:
another caller's upload id, info or download answers 404, as if it did not exist. With auth off there is no
identity to compare, so only the session's existence is checked.

Error bodies are ``{"error": "<what to change>"}``, plus ``code`` where a protocol error code applies.
"""

import logging
import time
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field, ValidationError

from omnia_facade.auth import Authenticator
from omnia_facade.errors import (
    AuthError,
    ErrorCode,
    FacadeError,
    MediaNotFoundError,
    OriginNotAllowedError,
    SessionStoreError,
    UnsupportedMediaTypeError,
    UploadTooLargeError,
)
from omnia_facade.identity import Identity
from omnia_facade.media.storage import ID_PATTERN, LocalMediaStorage, PendingUpload
from omnia_facade.metrics import FacadeMetrics
from omnia_facade.sessions.base import SessionStore
from omnia_facade.state import FacadeState

logger = logging.getLogger(__name__)

MAX_REQUEST_BODY = 64 * 1024


class UploadRequestBody(BaseModel):
    session_id: str = Field(min_length=1, max_length=128, pattern=ID_PATTERN.pattern)
    filename: str = Field(min_length=1, max_length=1024)
    mime_type: str = Field(min_length=1, max_length=255)
    size_bytes: int = Field(ge=0)


def upload_response(upload: PendingUpload, upload_url: str) -> dict[str, Any]:
    expires = upload.expires_at_rfc3339
    return {
        "upload_id": upload.upload_id,
        "upload_url": upload_url,
        "storage_ref": upload.storage_ref,
        "expires_at": expires,
        "method": "PUT",
        "UploadID": upload.upload_id,
        "URL": upload_url,
        "StorageRef": upload.storage_ref,
        "ExpiresAt": expires,
        "Method": "PUT",
    }


def _status_for(exc: FacadeError) -> int:
    if isinstance(exc, AuthError):
        return 401
    if isinstance(exc, OriginNotAllowedError):
        return 403
    if isinstance(exc, MediaNotFoundError):
        return 404
    if isinstance(exc, UploadTooLargeError):
        return 413
    if isinstance(exc, UnsupportedMediaTypeError):
        return 415
    if isinstance(exc, SessionStoreError):
        return 503
    return 400


def _error(exc: FacadeError) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=_status_for(exc))


async def session_refusal(store: SessionStore, session_id: str, caller: str | None) -> JSONResponse | None:
    """Why ``caller`` may not upload to ``session_id`` (a 404 or 403 answer), or ``None`` when it may."""
    session = await store.get(session_id)
    if session is None:
        return JSONResponse(
            {
                "error": f"session {session_id} is unknown or has expired: use the session_id of a WebSocket "
                "connection that has sent a message or an upload_request, within the session's lifetime",
                "code": ErrorCode.SESSION_NOT_FOUND,
            },
            status_code=404,
        )
    if caller is not None and session.user_id and session.user_id != caller:
        return JSONResponse(
            {"error": f"session {session_id} belongs to another caller: upload with the credentials that opened it"},
            status_code=403,
        )
    return None


def media_router(storage: LocalMediaStorage, auth: Authenticator, metrics: FacadeMetrics) -> APIRouter:
    """The ``/media`` routes; the session store is the running app's (``app.state.facade``)."""
    router = APIRouter(prefix="/media")

    async def admit(request: Request) -> str | None:
        """The caller's identity to check ownership against, or ``None`` when auth is off."""
        auth.check_origin(request.headers)
        identity: Identity = await auth.authenticate(request.headers)
        return identity.subject if auth.configured else None

    @router.post("/request-upload")
    async def request_upload(request: Request) -> JSONResponse:
        try:
            caller = await admit(request)
            raw = await request.body()
            if len(raw) > MAX_REQUEST_BODY:
                return JSONResponse({"error": "request body too large"}, status_code=413)
            try:
                body = UploadRequestBody.model_validate_json(raw)
            except ValidationError as e:
                first = e.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "body"
                return JSONResponse({"error": f"invalid request: {where}: {first['msg']}"}, status_code=400)
            state: FacadeState = request.app.state.facade
            refusal = await session_refusal(state.store, body.session_id, caller)
            if refusal is not None:
                metrics.uploads_total.labels(status="rejected").inc()
                return refusal
            upload = storage.request_upload(
                session_id=body.session_id,
                filename=body.filename,
                mime_type=body.mime_type,
                size_bytes=body.size_bytes,
                owner=caller or "",
            )
        except FacadeError as e:
            metrics.uploads_total.labels(status="rejected").inc()
            return _error(e)
        url = str(request.url_for("upload_media", upload_id=upload.upload_id))
        return JSONResponse(upload_response(upload, url), status_code=201)

    @router.put("/upload/{upload_id}", name="upload_media")
    async def upload(upload_id: str, request: Request) -> JSONResponse:
        started = time.monotonic()
        try:
            caller = await admit(request)
            info = await storage.receive(
                upload_id, request.headers.get("content-type"), request.stream(), caller=caller
            )
        except FacadeError as e:
            metrics.uploads_total.labels(status="failed").inc()
            return _error(e)
        metrics.uploads_total.labels(status="success").inc()
        metrics.upload_bytes_total.inc(info.size_bytes)
        metrics.upload_duration_seconds.observe(time.monotonic() - started)
        return JSONResponse(asdict(info), status_code=201)

    @router.get("/info/{session_id}/{media_id}")
    async def info(session_id: str, media_id: str, request: Request) -> JSONResponse:
        try:
            caller = await admit(request)
            found = storage.info(session_id, media_id, caller=caller)
        except FacadeError as e:
            return _error(e)
        return JSONResponse(asdict(found))

    @router.get("/download/{session_id}/{media_id}", response_model=None)
    async def download(session_id: str, media_id: str, request: Request) -> FileResponse | JSONResponse:
        try:
            caller = await admit(request)
            path, found = storage.file(session_id, media_id, caller=caller)
        except FacadeError as e:
            metrics.downloads_total.labels(status="failed").inc()
            return _error(e)
        metrics.downloads_total.labels(status="success").inc()
        metrics.download_bytes_total.inc(found.size_bytes)
        return FileResponse(path, media_type=found.mime_type, filename=found.filename)

    return router
