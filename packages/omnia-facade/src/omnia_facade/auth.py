"""Who may open a WebSocket (and use the media endpoints).

Validators, tried in order, any one admits: API keys (``OMNIA_FACADE_API_KEYS_PATH``: a file, or a Secret-mounted
directory whose files each hold keys; one sha256 hex digest per line, optional ``sha256:`` prefix, ``#`` comments;
the keys themselves are never stored; the files are re-read when they change, so a rotated Secret applies without
a restart) and OIDC JWTs (``OMNIA_OIDC_ISSUER`` with its JWKS, discovered from
``/.well-known/openid-configuration`` unless ``OMNIA_OIDC_JWKS_URL`` is set; fetched with httpx, cached, refetched
once when a token names an unknown key). Both present ``Authorization: Bearer <token>``.

With no validator configured the facade refuses every upgrade (401) unless
``OMNIA_FACADE_ALLOW_UNAUTHENTICATED`` is true. Browser origins are checked separately against
``OMNIA_ALLOWED_ORIGINS``: a request without ``Origin`` (a non-browser client) passes; one with an Origin needs it
listed, or ``*``.
"""

import asyncio
import hashlib
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import jwt

from omnia_facade.errors import AuthError, ConfigError, OriginNotAllowedError
from omnia_facade.identity import ANONYMOUS, Identity
from omnia_facade.settings import FacadeSettings

logger = logging.getLogger(__name__)

MAX_KEY_FILE_BYTES = 1024 * 1024
JWKS_TIMEOUT_S = 5.0
JWKS_MIN_REFRESH_S = 30.0
JWT_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def load_api_key_hashes(path: Path) -> frozenset[str]:
    """The sha256 digests in a key file, or in every regular file of a Secret-mounted directory."""
    if path.is_dir():
        files = [f for f in sorted(path.iterdir()) if f.is_file() and not f.name.startswith(".")]
    elif path.is_file():
        files = [path]
    else:
        raise ConfigError(f"OMNIA_FACADE_API_KEYS_PATH={path} is neither a file nor a directory")
    digests: set[str] = set()
    for file in files:
        if file.stat().st_size > MAX_KEY_FILE_BYTES:
            raise ConfigError(f"API key file {file} is larger than {MAX_KEY_FILE_BYTES} bytes")
        for raw in file.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            digest = line.removeprefix("sha256:").lower()
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise ConfigError(
                    f"API key file {file} has a line that is not a sha256 hex digest: store "
                    "sha256(key) (e.g. `printf %s KEY | sha256sum`), never the key itself"
                )
            digests.add(digest)
    return frozenset(digests)


class OidcVerifier:
    def __init__(self, issuer: str, audience: str | None, jwks_url: str | None) -> None:
        self._issuer = issuer.rstrip("/")
        self._audience = audience
        self._jwks_url = jwks_url
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched_at < JWKS_MIN_REFRESH_S and self._keys:
                return
            try:
                async with httpx.AsyncClient(timeout=JWKS_TIMEOUT_S) as client:
                    url = self._jwks_url
                    if not url:
                        discovery = await client.get(f"{self._issuer}/.well-known/openid-configuration")
                        discovery.raise_for_status()
                        url = str(discovery.json()["jwks_uri"])
                    response = await client.get(url)
                    response.raise_for_status()
                    jwks = jwt.PyJWKSet.from_dict(response.json())
            except (httpx.HTTPError, ValueError, KeyError, jwt.PyJWTError) as e:
                raise AuthError("cannot verify the token: the OIDC keys could not be fetched") from e
            self._keys = {key.key_id: key for key in jwks.keys if key.key_id}
            self._fetched_at = time.monotonic()

    async def verify(self, token: str) -> Identity:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise AuthError("the bearer token is not a valid JWT") from e
        kid = header.get("kid")
        if not isinstance(kid, str) or kid not in self._keys:
            await self._refresh()
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            if len(self._keys) != 1 or kid:
                raise AuthError("the token is signed by a key the issuer does not publish")
            key = next(iter(self._keys.values()))
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=JWT_ALGORITHMS,
                issuer=self._issuer,
                audience=self._audience,
                options={"verify_aud": self._audience is not None, "require": ["exp", "iss", "sub"]},
            )
        except jwt.PyJWTError as e:
            raise AuthError(f"the token was rejected: {e}") from e
        flat = {k: str(v) for k, v in claims.items() if isinstance(v, str | int | bool) and k not in ("sub", "email")}
        return Identity(origin="oidc", subject=str(claims["sub"]), email=str(claims.get("email", "")), claims=flat)


class Authenticator:
    """The auth chain of the facade's external listener."""

    def __init__(self, settings: FacadeSettings) -> None:
        self._allow_anonymous = settings.facade_allow_unauthenticated
        self._origins = settings.origins
        self._keys_path = settings.facade_api_keys_path
        self._keys_stamp: tuple[float, ...] = ()
        self._key_hashes: frozenset[str] = frozenset()
        self._has_keys = self._keys_path is not None
        self._reload_keys()
        self._oidc = (
            OidcVerifier(settings.oidc_issuer, settings.oidc_audience, settings.oidc_jwks_url)
            if settings.oidc_issuer
            else None
        )

    def _reload_keys(self) -> None:
        """Re-read the key file(s) when they changed (a rotated Secret), keeping the old keys if unreadable."""
        if self._keys_path is None:
            return
        try:
            paths = [self._keys_path, *(self._keys_path.iterdir() if self._keys_path.is_dir() else [])]
            stamp = tuple(path.stat().st_mtime for path in paths)
        except OSError:
            stamp = ()
        if stamp and stamp == self._keys_stamp:
            return
        try:
            self._key_hashes = load_api_key_hashes(self._keys_path)
        except (ConfigError, OSError):
            if not self._keys_stamp:
                raise
            logger.exception("could not reload the API keys; keeping the previous ones")
            return
        self._keys_stamp = stamp

    @property
    def configured(self) -> bool:
        return self._has_keys or self._oidc is not None

    def check_origin(self, headers: Mapping[str, str]) -> None:
        origin = headers.get("origin")
        if origin is None:
            return
        if "*" in self._origins or origin in self._origins:
            return
        raise OriginNotAllowedError(f"origin {origin[:200]!r} is not allowed: add it to OMNIA_ALLOWED_ORIGINS")

    async def authenticate(self, headers: Mapping[str, str]) -> Identity:
        if not self.configured:
            if self._allow_anonymous:
                return ANONYMOUS
            raise AuthError(
                "no authentication is configured: set OMNIA_FACADE_API_KEYS_PATH or OMNIA_OIDC_ISSUER, "
                "or OMNIA_FACADE_ALLOW_UNAUTHENTICATED=true for local development"
            )
        authorization = headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError("missing credentials: send 'Authorization: Bearer <token>'")
        if len(token) > 16384:
            raise AuthError("the bearer token is too long")
        self._reload_keys()
        digest = hash_api_key(token)
        if digest in self._key_hashes:
            return Identity(origin="api-key", subject="apikey:" + digest[:12])
        if self._oidc is not None and token.count(".") == 2:
            return await self._oidc.verify(token)
        raise AuthError("invalid credentials: the bearer token is not a known API key or a valid token")
