"""An informer: a local cache of one kind kept current by list-then-watch, with change callbacks.

Loop: list (the cache becomes exactly the list; differences are reported as ADDED/MODIFIED/DELETED, which
matters after a relist that missed events), then watch from the list's resourceVersion. Every event and
BOOKMARK advances the resourceVersion, so a watch that ends (server timeout) or breaks (dropped connection,
5xx) resumes from where it was, after a backoff with jitter for failures. Only 410 Gone forces a relist.

Callbacks are plain functions `on_change(event_type, obj, old)` called in event order on the informer's task;
they must be quick (controllers just enqueue keys) and their exceptions are logged, never fatal.

Indexes (`add_index`, `by_index`; see indexer.py) are updated with the cache, before the callbacks run, so the
watches between kinds look up "the agents that reference this object" without scanning the cache.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Literal

from omnia_operator.controller.backoff import Backoff
from omnia_operator.controller.indexer import CacheKey, Indexer, IndexFunc
from omnia_operator.controller.metrics import WATCH_RESTARTS
from omnia_operator.kube import errors
from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.resources import KubeObject, ResourceKind

logger = logging.getLogger(__name__)

ChangeType = Literal["ADDED", "MODIFIED", "DELETED"]
ChangeCallback = Callable[[ChangeType, KubeObject, KubeObject | None], None]


def cache_key(obj: KubeObject) -> CacheKey:
    metadata = obj.get("metadata") or {}
    return (metadata.get("namespace") or "", metadata.get("name") or "")


class Informer:
    def __init__(
        self,
        client: KubeClient,
        kind: ResourceKind,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        watch_timeout: int = 300,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.client = client
        self.kind = kind
        self.namespace = namespace
        self.label_selector = label_selector
        self.watch_timeout = watch_timeout
        self._backoff = backoff or Backoff(base=0.2, cap=30.0)
        self._sleep: Callable[[float], Awaitable[None]] = sleep or asyncio.sleep
        self._cache: dict[CacheKey, KubeObject] = {}
        self._indexer = Indexer()
        self._callbacks: list[ChangeCallback] = []
        self._synced = asyncio.Event()
        self.resource_version = ""
        self.lists = 0
        """How many times the informer listed (1 + relists), for tests and diagnostics."""

    def __repr__(self) -> str:
        return f"Informer({self.kind}, namespace={self.namespace!r})"

    # ------------------------------------------------------------------ cache
    def on_change(self, callback: ChangeCallback) -> None:
        self._callbacks.append(callback)

    @property
    def has_synced(self) -> bool:
        return self._synced.is_set()

    async def wait_synced(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109 (the contract's signature)
        """True once the first list is in the cache; False if that did not happen within `timeout` seconds."""
        try:
            async with asyncio.timeout(timeout):
                await self._synced.wait()
        except TimeoutError:
            return False
        return True

    def get(self, name: str, namespace: str | None = None) -> KubeObject | None:
        """The cached object (do not modify it) or None."""
        return self._cache.get((namespace or "" if self.kind.namespaced else "", name))

    def add_index(self, name: str, func: IndexFunc) -> None:
        """File every cached object under the values `func` returns; kept current on every change."""
        self._indexer.add(name, func, self._cache)

    def has_index(self, name: str) -> bool:
        return name in self._indexer.names

    def by_index(self, name: str, value: Hashable) -> list[KubeObject]:
        """Cached objects filed under `value` in index `name` (do not modify them)."""
        return [self._cache[key] for key in self._indexer.keys(name, value)]

    def list(self, namespace: str | None = None) -> list[KubeObject]:
        if namespace is None or namespace == self.namespace:
            return list(self._cache.values())  # a namespaced informer holds that namespace only
        return [obj for (ns, _), obj in self._cache.items() if ns == namespace]

    def _emit(self, event_type: ChangeType, obj: KubeObject, old: KubeObject | None) -> None:
        for callback in self._callbacks:
            try:
                callback(event_type, obj, old)
            except Exception:
                logger.exception("%r: on_change callback failed for %s %s", self, event_type, cache_key(obj))

    def _apply(self, event_type: str, obj: KubeObject) -> None:
        key = cache_key(obj)
        old = self._cache.get(key)
        if event_type == "DELETED":
            self._cache.pop(key, None)
            self._indexer.remove(key)
            self._emit("DELETED", obj, old)
        else:
            self._cache[key] = obj
            self._indexer.update(key, obj)
            self._emit("ADDED" if old is None else "MODIFIED", obj, old)

    # ------------------------------------------------------------------ loop
    async def _relist(self) -> None:
        listed = await self.client.list(self.kind, self.namespace, label_selector=self.label_selector)
        self.lists += 1
        fresh = {cache_key(obj): obj for obj in listed.items}
        for key, old in list(self._cache.items()):
            if key not in fresh:
                del self._cache[key]
                self._indexer.remove(key)
                self._emit("DELETED", old, old)
        for key, obj in fresh.items():
            old = self._cache.get(key)
            self._cache[key] = obj
            self._indexer.update(key, obj)
            if old is None:
                self._emit("ADDED", obj, None)
            elif old.get("metadata", {}).get("resourceVersion") != obj.get("metadata", {}).get("resourceVersion"):
                self._emit("MODIFIED", obj, old)
        self.resource_version = listed.resource_version
        self._synced.set()

    async def _watch_once(self) -> int:
        """One watch request; returns how many events it delivered. Raises on Gone and on failures."""
        delivered = 0
        async for event in self.client.watch(
            self.kind,
            namespace=self.namespace,
            resource_version=self.resource_version,
            timeout_seconds=self.watch_timeout,
            label_selector=self.label_selector,
        ):
            delivered += 1
            if event.type != "BOOKMARK":
                self._apply(event.type, event.object)
            if event.resource_version:
                self.resource_version = event.resource_version
        return delivered

    async def run(self) -> None:
        """Keep the cache current until cancelled."""
        failures = 0
        need_list = True
        while True:
            try:
                if need_list:
                    await self._relist()
                    need_list = False
                delivered = await self._watch_once()
                WATCH_RESTARTS.labels(self.kind.kind, "ended").inc()
                if delivered:
                    failures = 0
                    continue  # the server closed the watch (timeoutSeconds): resume from the last version
                failures += 1  # an empty watch: back off, so a server that ends watches at once is not hammered
                await self._sleep(self._backoff.delay(failures))
                continue
            except errors.GoneError:
                logger.info("%r: resourceVersion %s expired; listing again", self, self.resource_version)
                WATCH_RESTARTS.labels(self.kind.kind, "gone").inc()
                need_list = True
                continue
            except errors.KubeError as e:
                failures += 1
                reason = "transient" if isinstance(e, errors.TransientKubeError) else "error"
                WATCH_RESTARTS.labels(self.kind.kind, reason).inc()
                delay = self._backoff.delay(failures)
                logger.warning("%r: %s; retrying in %.2fs", self, e, delay)
                await self._sleep(delay)
