"""`FakeKubeAPI`: an aiohttp server on 127.0.0.1 that answers the Kubernetes REST API from an `ObjectStore`.

kubernetes-asyncio talks to it unchanged (point an `ApiClient` at `api.url`). Every request is logged
(`request_log`) and mutating ones are counted (`write_count`), so tests can prove a reconcile wrote nothing.
Faults (`api.faults`) are applied before a request reaches the store.

Answers follow the real API server where the operator depends on them; the differences are deliberate and
listed here: no authentication or RBAC, no server-side apply, no list pagination (`limit`/`continue` are
ignored), strategic-merge patches on built-in kinds are applied as JSON merge patches, namespaces need not
exist, and one storage version per kind. A patch in a content type the server does not accept gets 415
UnsupportedMediaType with the real server's message (DESIGN.md §4 says 400; the real answer wins).
"""

import asyncio
import contextlib
import contextvars
import json
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Self

from aiohttp import web

from omnia_operator.kube.resources import ResourceKind
from omnia_operator.testing.fakekube import schema as crd_schema, status as st
from omnia_operator.testing.fakekube.collector import collect_garbage
from omnia_operator.testing.fakekube.discovery import discovery
from omnia_operator.testing.fakekube.faults import Faults
from omnia_operator.testing.fakekube.kinds import KindInfo
from omnia_operator.testing.fakekube.routing import Target, parse_path
from omnia_operator.testing.fakekube.selectors import parse_field_selector, parse_label_selector
from omnia_operator.testing.fakekube.store import CRD_GROUP, CRD_PLURAL, ObjectStore
from omnia_operator.testing.fakekube.verbs import MAX_BODY_BYTES, dispatch, json_response
from omnia_operator.testing.fakekube.watchevents import Obj, Watcher, WatchEvent, encode_event

logger = logging.getLogger(__name__)
_STRICT_FIELDS: contextvars.ContextVar[bool] = contextvars.ContextVar("strict_fields", default=False)
MUTATING = frozenset({"create", "update", "patch", "delete", "deletecollection"})


@dataclass
class RequestRecord:
    method: str
    verb: str
    group: str
    resource: str
    namespace: str | None
    name: str | None
    subresource: str = ""
    query: dict[str, str] = field(default_factory=dict)
    status: int = 0


def _verb(method: str, target: Target, query: dict[str, str]) -> str:
    if method == "GET":
        if target.name:
            return "get"
        return "watch" if query.get("watch") in ("true", "1") else "list"
    return {
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete" if target.name else "deletecollection",
    }.get(method, method.lower())


class FakeKubeAPI:
    """The fake API server. Use as `async with FakeKubeAPI() as api:`; `api.url` is its address."""

    def __init__(
        self,
        *,
        crds: Iterable[Obj] = (),
        history_limit: int = 1000,
        bookmark_interval: float | None = 60.0,
        seed: int = 0,
    ) -> None:
        self.store = ObjectStore(history_limit=history_limit)
        self.faults = Faults(seed=seed, dropper=self.store.drop_watches)
        self.request_log: list[RequestRecord] = []
        self.bookmark_interval = bookmark_interval
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._gc_wakeup = asyncio.Event()
        self._gc_task: asyncio.Task[None] | None = None
        self._active_watches: set[Watcher] = set()
        self.store.on_delete = self._gc_wakeup.set
        self.store.admit = self._admit
        self.register_crds(crds)

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self._gc_task = asyncio.create_task(self._collect_in_background(), name="fakekube-gc")

    async def stop(self) -> None:
        if self._gc_task is not None:
            self._gc_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._gc_task
            self._gc_task = None
        self.store.drop_watches()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _collect_in_background(self) -> None:
        while True:
            await self._gc_wakeup.wait()
            self._gc_wakeup.clear()
            collect_garbage(self.store)

    def _admit(self, info: KindInfo, obj: Obj, old: Obj | None) -> Obj:
        """Prune, default and validate custom resources against their CRD schema (422 naming each field)."""
        if not info.custom or not info.schema:
            return obj
        admitted, unknown, causes = crd_schema.admit(info.schema, obj, old)
        name = (obj.get("metadata") or {}).get("name", "")
        if causes:
            raise st.invalid(info.kind, info.group, name, [(c.field, c.reason, c.message) for c in causes])
        if unknown and _STRICT_FIELDS.get():
            fields = ", ".join(f'unknown field "{field}"' for field in unknown)
            raise st.bad_request(f"strict decoding error: {fields}")
        return admitted

    # ------------------------------------------------------------------ test helpers
    def register_crds(self, crds: Iterable[Obj]) -> None:
        """Create CustomResourceDefinitions directly (no request logged); their kinds are served at once."""
        info = self.store.kinds.lookup(CRD_GROUP, "v1", CRD_PLURAL)
        assert info is not None
        for crd in crds:
            existing = self.store.peek(info, None, crd["metadata"]["name"])
            if existing is None:
                self.store.create(info, None, crd)
            else:
                body = {
                    **crd,
                    "metadata": {**crd["metadata"], "resourceVersion": existing["metadata"]["resourceVersion"]},
                }
                self.store.update(info, None, crd["metadata"]["name"], body)

    def _kind(self, kind: ResourceKind) -> KindInfo:
        info = self.store.kinds.lookup(kind.group, kind.version, kind.plural)
        if info is None:
            raise LookupError(f"the fake API does not serve {kind}: register its CRD first")
        return info

    def object(self, kind: ResourceKind, name: str, namespace: str | None = None) -> Obj | None:
        """A copy of the stored object, read without a request (not logged, never faulted), or None."""
        info = self._kind(kind)
        return self.store.get(info, namespace, name) if self.store.peek(info, namespace, name) is not None else None

    def objects(self, kind: ResourceKind, namespace: str | None = None) -> list[Obj]:
        """Copies of the stored objects of `kind` (in `namespace`, or all), read without a request."""
        items, _ = self.store.list_objects(self._kind(kind), namespace, lambda _labels: True, lambda _obj: True)
        return items

    @property
    def write_count(self) -> int:
        """Mutating requests received (create, update, patch, delete), whatever their outcome."""
        return sum(1 for record in self.request_log if record.verb in MUTATING)

    def requests(self, *, verb: str | None = None, resource: str | None = None) -> list[RequestRecord]:
        return [r for r in self.request_log if (verb is None or r.verb == verb) and (resource in (None, r.resource))]

    def send_bookmarks(self) -> int:
        """Send a BOOKMARK at the current resourceVersion on every watch that allows them; returns how many."""
        sent = 0
        for watcher in list(self._active_watches):
            if watcher.bookmarks and not watcher.closed:
                event = WatchEvent(self.store.resource_version, "BOOKMARK", ("", ""), "", {})
                with contextlib.suppress(asyncio.QueueFull):
                    watcher.queue.put_nowait(event)
                    sent += 1
        return sent

    def compact(self) -> None:
        """Expire the event history: watches from an older resourceVersion get 410 Gone."""
        self.store.compact()

    def collect_garbage(self) -> int:
        return collect_garbage(self.store)

    @property
    def watch_count(self) -> int:
        return self.store.watch_count

    # ------------------------------------------------------------------ HTTP
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path in ("/healthz", "/readyz", "/livez"):
            return web.Response(text="ok")
        if path == "/version":
            return json_response(
                {"major": "1", "minor": "31", "gitVersion": "v1.31.0-omnia-fake", "platform": "linux/amd64"}
            )
        query = dict(request.query)
        _STRICT_FIELDS.set(query.get("fieldValidation") == "Strict")
        record: RequestRecord | None = None
        try:
            target = parse_path(path)
            if target is None:
                return json_response(discovery(self.store.kinds, path))
            verb = _verb(request.method, target, query)
            record = RequestRecord(
                request.method, verb, target.group, target.plural, target.namespace, target.name, target.subresource,
                query,
            )  # fmt: skip
            self.request_log.append(record)
            if self.faults.latency > 0:
                await asyncio.sleep(self.faults.latency)
            if fault := self.faults.pick(verb):
                raise fault
            info = self.store.kinds.lookup(target.group, target.version, target.plural)
            if info is None:
                raise st.StatusError(404, "NotFound", f"the server could not find the requested resource ({path})")
            if target.subresource and target.subresource != "status":
                raise st.StatusError(404, "NotFound", f"the server could not find the requested resource ({path})")
            if target.subresource == "status" and not info.has_status:
                raise st.StatusError(404, "NotFound", f"the server could not find the requested resource ({path})")
            if target.namespace and not info.namespaced:
                raise st.StatusError(404, "NotFound", f"the server could not find the requested resource ({path})")
            if verb == "watch":
                return await self._watch(request, info, target, query, record)
            response = await dispatch(self.store, request, verb, info, target, query)
            record.status = response.status
            return response
        except st.StatusError as error:
            if record is not None:
                record.status = error.code
            response = json_response(error.to_status(), error.code)
            if error.retry_after is not None:
                response.headers["Retry-After"] = str(error.retry_after)
            return response

    # ------------------------------------------------------------------ watch
    async def _watch(
        self, request: web.Request, info: KindInfo, target: Target, query: dict[str, str], record: RequestRecord
    ) -> web.StreamResponse:
        labels = parse_label_selector(query.get("labelSelector"))
        fields = parse_field_selector(query.get("fieldSelector"))
        try:
            timeout = float(query.get("timeoutSeconds") or 1800)
        except ValueError as e:
            raise st.bad_request(f"timeoutSeconds must be a number, not {query.get('timeoutSeconds')!r}") from e
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        record.status = 200
        try:
            watcher = self.store.open_watch(info, target.namespace, query.get("resourceVersion"), labels, fields)
        except st.StatusError as error:
            if error.code != 410:
                raise
            await response.prepare(request)  # like the real server: 200, then an ERROR event carrying the 410 Status
            await response.write(json.dumps({"type": "ERROR", "object": error.to_status()}).encode() + b"\n")
            await response.write_eof()
            return response
        watcher.bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        self._active_watches.add(watcher)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        interval = self.bookmark_interval if watcher.bookmarks and self.bookmark_interval else math.inf
        next_bookmark = loop.time() + interval
        try:
            await response.prepare(request)
            while (remaining := deadline - loop.time()) > 0:
                wait = min(remaining, max(next_bookmark - loop.time(), 0.0))
                try:
                    event = await asyncio.wait_for(watcher.queue.get(), timeout=wait)
                except TimeoutError:
                    if loop.time() < next_bookmark:
                        continue  # the deadline passed; the loop condition ends the watch
                    event = WatchEvent(self.store.resource_version, "BOOKMARK", ("", ""), "", {})
                    next_bookmark = loop.time() + interval
                if event is None:  # dropped by fault injection or because the client was too slow
                    if request.transport is not None:
                        request.transport.abort()
                    return response
                line = encode_event(info, watcher, event)
                if line is not None:
                    await response.write(line)
            await response.write_eof()
        finally:
            self.store.close_watch(watcher)
            self._active_watches.discard(watcher)
        return response
