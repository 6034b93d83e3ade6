"""Local media storage: pending uploads, files on disk, and ``omnia://`` storage references.

Layout under ``OMNIA_MEDIA_STORAGE_PATH``: ``{session_id}/{media_id}`` holds the bytes and
``{session_id}/{media_id}.json`` its metadata; partial uploads are written to ``.incoming/`` and renamed into
place only when complete and within limits. Ids are checked against a strict pattern before they touch a path,
and every resolved path must stay under the root, so no id can walk out of the directory.

Upload ids are random, single use (taken on the first PUT, whatever its outcome) and expire after
``OMNIA_MEDIA_UPLOAD_URL_TTL``; they live in memory, so a pending upload does not survive a restart (stored
media does). The number of pending uploads is bounded. Expiry is measured on an injectable monotonic clock.

Ownership: a pending upload and the stored media remember the identity (``Identity.subject``) that requested them,
in the metadata file as ``owner`` (never shown to clients). Callers that pass ``caller`` (the routes do when auth is
on) see another owner's upload id or media as unknown (``MediaNotFoundError``), so a foreign id is neither spent
nor revealed; ``caller=None`` skips the check (auth off, or the facade's own lookups).
"""

import json
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

from omnia_facade.errors import (
    InvalidMessageError,
    MediaNotFoundError,
    UnsupportedMediaTypeError,
    UploadFailedError,
    UploadTooLargeError,
)

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
STORAGE_REF = re.compile(
    r"^omnia://sessions/([A-Za-z0-9][A-Za-z0-9_-]{0,127})/media/([A-Za-z0-9][A-Za-z0-9_-]{0,127})$"
)
MAX_PENDING_UPLOADS = 10_000


def storage_ref(session_id: str, media_id: str) -> str:
    return f"omnia://sessions/{session_id}/media/{media_id}"


def parse_storage_ref(ref: str) -> tuple[str, str]:
    match = STORAGE_REF.match(ref)
    if match is None:
        raise InvalidMessageError(
            f"invalid storage_ref {ref[:200]!r}: expected omnia://sessions/<session-id>/media/<media-id>"
        )
    return match.group(1), match.group(2)


def rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def check_id(value: str, what: str) -> str:
    if not ID_PATTERN.match(value):
        raise MediaNotFoundError(f"invalid {what}: letters, digits, '-' and '_' only (at most 128)")
    return value


@dataclass(frozen=True)
class PendingUpload:
    upload_id: str
    session_id: str
    media_id: str
    filename: str
    mime_type: str
    size_bytes: int
    expires_at: float
    """On the storage's monotonic clock."""
    expires_at_rfc3339: str
    owner: str = ""

    @property
    def storage_ref(self) -> str:
        return storage_ref(self.session_id, self.media_id)


@dataclass(frozen=True)
class MediaInfo:
    media_id: str
    session_id: str
    storage_ref: str
    filename: str
    mime_type: str
    size_bytes: int
    created_at: str
    expires_at: str


MEDIA_INFO_FIELDS = frozenset(f.name for f in fields(MediaInfo))


def owned_by(caller: str | None, owner: str) -> bool:
    """Whether ``caller`` may use something ``owner`` requested (``None``: no check; no recorded owner: anyone)."""
    return caller is None or not owner or caller == owner


class LocalMediaStorage:
    def __init__(
        self,
        root: Path,
        *,
        max_file_size: int,
        allowed_types: frozenset[str],
        upload_ttl: float,
        media_ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._root = root.resolve()
        self._max_file_size = max_file_size
        self._allowed_types = allowed_types
        self._upload_ttl = upload_ttl
        self._media_ttl = media_ttl
        self._pending: dict[str, PendingUpload] = {}

    @property
    def max_file_size(self) -> int:
        return self._max_file_size

    def _path(self, session_id: str, media_id: str) -> Path:
        check_id(session_id, "session id")
        check_id(media_id, "media id")
        path = (self._root / session_id / media_id).resolve()
        if not path.is_relative_to(self._root):
            raise MediaNotFoundError("invalid media path")
        return path

    def _check_type(self, mime_type: str) -> str:
        base = mime_type.split(";", 1)[0].strip().lower()
        if base not in self._allowed_types:
            raise UnsupportedMediaTypeError(
                f"MIME type {base[:100]!r} is not allowed; allowed: {', '.join(sorted(self._allowed_types))}"
            )
        return base

    def request_upload(
        self, *, session_id: str, filename: str, mime_type: str, size_bytes: int, owner: str = ""
    ) -> PendingUpload:
        if not ID_PATTERN.match(session_id):
            raise UploadFailedError("invalid session id for the upload")
        if size_bytes > self._max_file_size:
            raise UploadTooLargeError(
                f"file of {size_bytes} bytes is over the limit of {self._max_file_size} bytes "
                "(OMNIA_MEDIA_MAX_FILE_SIZE)"
            )
        mime = self._check_type(mime_type)
        now = self._clock()
        self._pending = {key: up for key, up in self._pending.items() if up.expires_at > now}
        if len(self._pending) >= MAX_PENDING_UPLOADS:
            raise UploadFailedError("too many pending uploads; retry later")
        upload = PendingUpload(
            upload_id=secrets.token_hex(16),
            session_id=session_id,
            media_id=uuid.uuid4().hex,
            filename=Path(filename).name[:255] or "upload",
            mime_type=mime,
            size_bytes=size_bytes,
            expires_at=now + self._upload_ttl,
            expires_at_rfc3339=rfc3339(datetime.now(UTC) + timedelta(seconds=self._upload_ttl)),
            owner=owner,
        )
        self._pending[upload.upload_id] = upload
        return upload

    async def receive(
        self, upload_id: str, content_type: str | None, body: AsyncIterator[bytes], *, caller: str | None = None
    ) -> MediaInfo:
        """Store the body of a PUT; the upload id is spent whatever happens (unless it belongs to another caller)."""
        check_id(upload_id, "upload id")
        upload = self._pending.get(upload_id)
        if upload is None or not owned_by(caller, upload.owner):
            raise MediaNotFoundError("unknown or already used upload id: request a new upload")
        del self._pending[upload_id]
        if upload.expires_at <= self._clock():
            raise MediaNotFoundError(
                "upload id expired (OMNIA_MEDIA_UPLOAD_URL_TTL): request a new upload and PUT before its expires_at"
            )
        if content_type and self._check_type(content_type) != upload.mime_type:
            raise UnsupportedMediaTypeError(
                f"Content-Type {content_type[:100]!r} does not match the requested {upload.mime_type!r}"
            )
        limit = self._max_file_size
        final = self._path(upload.session_id, upload.media_id)
        incoming = self._root / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        partial = incoming / upload.upload_id
        size = 0
        try:
            with partial.open("wb") as out:
                async for piece in body:
                    size += len(piece)
                    if size > limit:
                        raise UploadTooLargeError(f"upload is over the limit of {limit} bytes")
                    out.write(piece)
            final.parent.mkdir(parents=True, exist_ok=True)
            now = datetime.now(UTC)
            info = MediaInfo(
                media_id=upload.media_id,
                session_id=upload.session_id,
                storage_ref=upload.storage_ref,
                filename=upload.filename,
                mime_type=upload.mime_type,
                size_bytes=size,
                created_at=rfc3339(now),
                expires_at=rfc3339(now + timedelta(seconds=self._media_ttl)),
            )
            final.with_suffix(".json").write_text(json.dumps({**asdict(info), "owner": upload.owner}))
            partial.replace(final)
        except OSError as e:
            raise UploadFailedError("the facade could not store the upload") from e
        finally:
            partial.unlink(missing_ok=True)
        return info

    def info(self, session_id: str, media_id: str, *, caller: str | None = None) -> MediaInfo:
        path = self._path(session_id, media_id)
        try:
            data = json.loads(path.with_suffix(".json").read_text())
            info = MediaInfo(**{key: value for key, value in data.items() if key in MEDIA_INFO_FIELDS})
            owner = str(data.get("owner", ""))
        except (OSError, ValueError, TypeError, AttributeError) as e:
            raise MediaNotFoundError(f"no media {storage_ref(session_id, media_id)}") from e
        missing = not path.is_file() or not owned_by(caller, owner)
        if missing or info.expires_at < rfc3339(datetime.now(UTC)):
            raise MediaNotFoundError(f"no media {storage_ref(session_id, media_id)} (missing or expired)")
        return info

    def file(self, session_id: str, media_id: str, *, caller: str | None = None) -> tuple[Path, MediaInfo]:
        info = self.info(session_id, media_id, caller=caller)
        return self._path(session_id, media_id), info
