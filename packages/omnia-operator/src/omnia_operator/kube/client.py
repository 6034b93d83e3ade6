"""`KubeClient`: the one place that talks to the Kubernetes API, through kubernetes-asyncio's `ApiClient`.

Design:
- Generic over kinds: every call takes a `ResourceKind` and plain manifests (`KubeObject`); requests go through
  `ApiClient.call_api` with raw (unparsed) responses, so one code path serves built-in and custom kinds alike.
- Errors are mapped in one place (`error_from_response`) onto `omnia_operator.kube.errors`; callers never see
  `ApiException` or aiohttp errors.
- 429, 5xx and connection failures are retried here, a bounded number of times, with exponential backoff and
  jitter, waiting at least what `Retry-After` asks (capped). A create retried after a lost answer may come back as
  AlreadyExistsError; reconcilers read before they write, so that is harmless.
- kubernetes_asyncio's aiohttp session trusts the environment, which makes aiohttp look up ~/.netrc and the proxy
  variables in a worker thread on *every* request (two thread hops per call). The proxy the environment names for
  the API server is resolved once when the client is built and passed explicitly; ~/.netrc is not consulted.
- Watches are a streaming GET with `allowWatchBookmarks=true`, read in chunks and split on newlines (a watch line
  holds a whole object, which can exceed aiohttp's line limit); an ERROR event with code 410 raises GoneError.
"""

import asyncio
import builtins
import copy
import json
import logging
import random
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Self
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
from kubernetes_asyncio import config as kube_config
from kubernetes_asyncio.client import ApiClient, Configuration
from kubernetes_asyncio.client.exceptions import ApiException

from omnia_operator.kube import errors
from omnia_operator.kube.resources import KubeObject, ObjectList, ResourceKind, WatchEvent

logger = logging.getLogger(__name__)

PatchType = Literal["merge", "json"]
Propagation = Literal["Background", "Foreground", "Orphan"]
_PATCH_CONTENT_TYPES: dict[str, str] = {"merge": "application/merge-patch+json", "json": "application/json-patch+json"}
MAX_WATCH_LINE_BYTES = 16 * 1024 * 1024
_WATCH_TYPES = ("ADDED", "MODIFIED", "DELETED", "BOOKMARK")


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried: `attempts` in all, backoff `base * 2**n` (±50% jitter) up to `cap`."""

    attempts: int = 5
    base: float = 0.2
    cap: float = 5.0
    max_retry_after: float = 30.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        backoff = min(self.cap, self.base * 2**attempt) * rng.uniform(0.5, 1.5)
        if retry_after is not None:
            return max(backoff, min(retry_after, self.max_retry_after))
        return backoff


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    if not headers:
        return None
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP-date; the backoff applies instead


def error_from_response(
    status: int, body: bytes | str | None, headers: Mapping[str, str] | None = None
) -> errors.KubeError:
    """Map one failed API answer onto our error tree. The ONLY place where HTTP statuses become error types."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    reason, message = "", text.strip()[:2000] or f"HTTP {status}"
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("kind") == "Status":
        reason = str(parsed.get("reason") or "")
        message = str(parsed.get("message") or message)
    if status == 404:
        return errors.NotFoundError(message, status=status, reason=reason)
    if status == 409:
        cls = errors.AlreadyExistsError if reason == "AlreadyExists" else errors.ConflictError
        return cls(message, status=status, reason=reason)
    if status == 410:
        return errors.GoneError(message, status=status, reason=reason)
    if status == 422:
        return errors.InvalidError(message, status=status, reason=reason)
    if status in (400, 413, 415):
        return errors.BadRequestError(message, status=status, reason=reason)
    if status in (401, 403):
        return errors.ForbiddenError(message, status=status, reason=reason)
    if status == 429 or status >= 500:
        return errors.TransientKubeError(message, status=status, reason=reason, retry_after=_retry_after(headers))
    return errors.KubeError(message, status=status, reason=reason)


def _from_api_exception(e: ApiException) -> errors.KubeError:
    headers = dict(e.headers) if e.headers else None
    if not e.status:  # kubernetes-asyncio reports a request it could not build as status 0
        return errors.BadRequestError(f"request could not be sent: {e.reason}", status=0)
    return error_from_response(int(e.status), e.body, headers)


def _namespace_of(kind: ResourceKind, obj: KubeObject) -> str | None:
    namespace = (obj.get("metadata") or {}).get("namespace")
    if kind.namespaced and not namespace:
        raise ValueError(f"{kind.kind} is namespaced: set metadata.namespace on the object")
    return namespace if kind.namespaced else None


def _name_of(kind: ResourceKind, obj: KubeObject) -> str:
    name = (obj.get("metadata") or {}).get("name")
    if not name:
        raise ValueError(f"set metadata.name on the {kind.kind} object")
    return str(name)


def _resolve_env_proxy_once(api_client: ApiClient) -> None:
    rest = api_client.rest_client
    if not rest.proxy:
        server = urlsplit(str(api_client.configuration.host or ""))
        if server.hostname and not proxy_bypass(server.hostname):
            # what aiohttp would pick per request (HTTPS_PROXY / HTTP_PROXY, minus NO_PROXY), picked once
            proxy = getproxies().get(server.scheme)
            if proxy:
                rest.proxy = proxy
    rest.pool_manager._trust_env = False  # the per-request lookups are what the lines above replace


class KubeClient:
    """Typed-error, retrying access to any kind on one API server. Close it (or use `async with`) when done."""

    def __init__(
        self,
        api_client: ApiClient,
        *,
        retry: RetryPolicy | None = None,
        request_timeout: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        seed: int | None = None,
    ) -> None:
        self._api = api_client
        _resolve_env_proxy_once(api_client)
        self._retry = retry or RetryPolicy()
        self._timeout = request_timeout
        self._sleep = sleep
        self._rng = random.Random(seed)

    @classmethod
    def for_url(cls, url: str, *, token: str | None = None, retry: RetryPolicy | None = None, **kwargs: Any) -> Self:
        """A client for an API server at `url` (plain HTTP to the fake in tests, or HTTPS with a bearer token).

        Call it from a coroutine: the underlying aiohttp session binds to the running event loop.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError as e:
            raise RuntimeError("create KubeClient inside a running event loop (from a coroutine)") from e
        configuration = Configuration(host=url.rstrip("/"))
        if token:
            configuration.api_key = {"BearerToken": token}
            configuration.api_key_prefix = {"BearerToken": "Bearer"}
        return cls(ApiClient(configuration), retry=retry, **kwargs)

    @classmethod
    async def from_kubeconfig(cls, path: str | None = None, *, context: str | None = None, **kwargs: Any) -> Self:
        """From a kubeconfig file; with no path: the in-cluster ServiceAccount in a pod, else ~/.kube/config."""
        configuration = Configuration()
        try:
            if path is None:
                try:
                    kube_config.load_incluster_config(client_configuration=configuration)
                except kube_config.ConfigException:
                    await kube_config.load_kube_config(context=context, client_configuration=configuration)
            else:
                await kube_config.load_kube_config(
                    config_file=path, context=context, client_configuration=configuration
                )
        except (kube_config.ConfigException, OSError) as e:
            where = path or "in-cluster ServiceAccount or ~/.kube/config"
            raise errors.KubeError(
                f"cannot load Kubernetes credentials from {where}: {e}; set KUBECONFIG or run in a pod"
            ) from e
        return cls(ApiClient(configuration), **kwargs)

    async def close(self) -> None:
        await self._api.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ transport
    async def _open(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        client_timeout: aiohttp.ClientTimeout | None = None,
    ) -> aiohttp.ClientResponse:
        """Send one request; returns the open response when it succeeded (2xx), raises a KubeError otherwise."""
        try:
            response: aiohttp.ClientResponse = await self._api.call_api(
                path,
                method,
                query_params=list((query or {}).items()),
                header_params={"Accept": "application/json", "Content-Type": content_type},
                body=body,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=client_timeout or aiohttp.ClientTimeout(total=self._timeout),
            )
        except ApiException as e:
            raise _from_api_exception(e) from e
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            raise errors.TransientKubeError(f"{method} {path}: cannot reach the API server: {e!r}") from e
        if response.status >= 300:
            try:
                data = await response.read()
            except (aiohttp.ClientError, TimeoutError) as e:
                raise errors.TransientKubeError(f"{method} {path}: answer lost: {e!r}", status=response.status) from e
            finally:
                response.release()
            raise error_from_response(response.status, data, dict(response.headers))
        return response

    async def _call_once(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._open(method, path, **kwargs)
        try:
            data = await response.read()
        except (aiohttp.ClientError, TimeoutError) as e:
            raise errors.TransientKubeError(f"{method} {path}: answer lost: {e!r}", status=response.status) from e
        finally:
            response.release()
        try:
            return json.loads(data) if data else None
        except ValueError as e:
            raise errors.KubeError(
                f"{method} {path}: the API server answered with non-JSON data", status=response.status
            ) from e

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """`_call_once` with bounded retries of transient failures."""
        attempt = 0
        while True:
            try:
                return await self._call_once(method, path, **kwargs)
            except errors.TransientKubeError as e:
                attempt += 1
                if attempt >= self._retry.attempts:
                    raise
                delay = self._retry.delay(attempt - 1, e.retry_after, self._rng)
                logger.info("retrying %s %s in %.2fs after: %s (attempt %d)", method, path, delay, e, attempt)
                await self._sleep(delay)

    # ------------------------------------------------------------------ verbs
    async def get(self, kind: ResourceKind, name: str, namespace: str | None = None) -> KubeObject:
        return await self._call("GET", kind.object_path(name, namespace))

    async def list(
        self, kind: ResourceKind, namespace: str | None = None, label_selector: str | None = None
    ) -> ObjectList:
        query = {"labelSelector": label_selector} if label_selector else {}
        data = await self._call("GET", kind.collection_path(namespace), query=query)
        items: builtins.list[KubeObject] = data.get("items") or []
        for item in items:  # built-in kinds omit these on list items
            item.setdefault("apiVersion", kind.api_version)
            item.setdefault("kind", kind.kind)
        return ObjectList(items=items, resource_version=str((data.get("metadata") or {}).get("resourceVersion", "")))

    def _body(self, kind: ResourceKind, obj: KubeObject) -> KubeObject:
        body = copy.copy(obj)
        body.setdefault("apiVersion", kind.api_version)
        body.setdefault("kind", kind.kind)
        return body

    async def create(self, kind: ResourceKind, obj: KubeObject) -> KubeObject:
        path = kind.collection_path(_namespace_of(kind, obj))
        return await self._call("POST", path, body=self._body(kind, obj))

    async def replace(self, kind: ResourceKind, obj: KubeObject) -> KubeObject:
        """PUT the whole object; `metadata.resourceVersion` makes it conditional (ConflictError when stale)."""
        path = kind.object_path(_name_of(kind, obj), _namespace_of(kind, obj))
        return await self._call("PUT", path, body=self._body(kind, obj))

    async def replace_status(self, kind: ResourceKind, obj: KubeObject) -> KubeObject:
        """PUT to `/status`: only `obj["status"]` is stored; conditional on `metadata.resourceVersion` when set."""
        path = kind.object_path(_name_of(kind, obj), _namespace_of(kind, obj), "status")
        return await self._call("PUT", path, body=self._body(kind, obj))

    async def patch(
        self,
        kind: ResourceKind,
        name: str,
        patch: KubeObject | builtins.list[KubeObject],
        *,
        namespace: str | None = None,
        patch_type: PatchType = "merge",
    ) -> KubeObject:
        """JSON merge patch (a dict) or JSON patch (a list of operations)."""
        if patch_type not in _PATCH_CONTENT_TYPES:
            raise ValueError(f"patch_type must be 'merge' or 'json', not {patch_type!r}")
        content_type = _PATCH_CONTENT_TYPES[patch_type]
        return await self._call("PATCH", kind.object_path(name, namespace), body=patch, content_type=content_type)

    async def patch_status(
        self, kind: ResourceKind, name: str, status_patch: KubeObject, *, namespace: str | None = None
    ) -> KubeObject:
        """Merge-patch the status stanza: `status_patch` is the patch FOR `.status` (sent as `{"status": ...}`)."""
        body = {"status": status_patch}
        path = kind.object_path(name, namespace, "status")
        return await self._call("PATCH", path, body=body, content_type=_PATCH_CONTENT_TYPES["merge"])

    async def delete(
        self, kind: ResourceKind, name: str, *, namespace: str | None = None, propagation: Propagation = "Background"
    ) -> KubeObject | None:
        """Delete; returns the object as the server left it (with `deletionTimestamp` while finalizers remain)."""
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}
        data = await self._call("DELETE", kind.object_path(name, namespace), body=body)
        return None if not isinstance(data, dict) or data.get("kind") == "Status" else data

    async def watch(
        self,
        kind: ResourceKind,
        *,
        namespace: str | None = None,
        resource_version: str,
        timeout_seconds: int = 300,
        label_selector: str | None = None,
    ) -> AsyncGenerator[WatchEvent, None]:
        """Events after `resource_version` until the server ends the watch (after `timeout_seconds`).

        Raises GoneError when the version is too old (list again), TransientKubeError when the connection drops.
        """
        query = {
            "watch": "true",
            "allowWatchBookmarks": "true",
            "resourceVersion": resource_version,
            "timeoutSeconds": str(int(timeout_seconds)),
        }
        if label_selector:
            query["labelSelector"] = label_selector
        path = kind.collection_path(namespace)
        stream_timeout = aiohttp.ClientTimeout(
            total=None, connect=self._timeout, sock_connect=self._timeout, sock_read=timeout_seconds + 30
        )
        attempt = 0
        while True:
            try:
                response = await self._open("GET", path, query=query, client_timeout=stream_timeout)
                break
            except errors.TransientKubeError as e:
                attempt += 1
                if attempt >= self._retry.attempts:
                    raise
                await self._sleep(self._retry.delay(attempt - 1, e.retry_after, self._rng))
        try:
            buffer = b""
            async for chunk in response.content.iter_any():
                buffer += chunk
                if len(buffer) > MAX_WATCH_LINE_BYTES:
                    raise errors.KubeError(f"watch {path}: an event is larger than {MAX_WATCH_LINE_BYTES} bytes")
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield self._watch_event(kind, path, line)
            if buffer.strip():
                yield self._watch_event(kind, path, buffer)
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            raise errors.TransientKubeError(f"watch {path}: connection lost: {e!r}") from e
        finally:
            response.release()

    def _watch_event(self, kind: ResourceKind, path: str, line: bytes) -> WatchEvent:
        try:
            event = json.loads(line)
            event_type, obj = event["type"], event["object"]
        except (ValueError, KeyError, TypeError) as e:
            raise errors.KubeError(f"watch {path}: malformed event from the API server") from e
        if event_type == "ERROR":
            raise error_from_response(int(obj.get("code") or 500), json.dumps(obj))
        if event_type not in _WATCH_TYPES:
            raise errors.KubeError(f"watch {path}: unknown event type {event_type!r}")
        obj.setdefault("apiVersion", kind.api_version)
        obj.setdefault("kind", kind.kind)
        return WatchEvent(type=event_type, object=obj)


__all__ = ("KubeClient", "KubeObject", "ObjectList", "RetryPolicy", "WatchEvent", "error_from_response")
