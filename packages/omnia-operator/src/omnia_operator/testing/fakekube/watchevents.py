"""Encoding of watch events per watcher, with the label/field-selector transitions of the API server's cache.

An object that stops matching a watch's selector is reported as DELETED to that watch, and one that starts
matching as ADDED, so a filtered watch always describes the filtered set exactly.
"""

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from omnia_operator.testing.fakekube.kinds import KindInfo
from omnia_operator.testing.fakekube.selectors import Requirement

Obj = dict[str, Any]
KindKey = tuple[str, str]  # (group, plural): all served versions of a kind share one storage


@dataclass
class WatchEvent:
    resource_version: int
    type: str
    kind_key: KindKey
    namespace: str
    obj: Obj
    old: Obj | None = None


@dataclass(eq=False)
class Watcher:
    """One open watch: its filters and the queue the store pushes matching events into."""

    info: KindInfo
    namespace: str | None
    labels: Requirement
    fields: Callable[[Obj], bool]
    queue: asyncio.Queue[WatchEvent | None] = field(default_factory=lambda: asyncio.Queue(maxsize=10_000))
    closed: bool = False
    bookmarks: bool = False

    def wants(self, event: WatchEvent) -> bool:
        if event.kind_key != (self.info.group, self.info.plural):
            return False
        return not (self.namespace and event.namespace != self.namespace)

    def drop(self) -> None:
        self.closed = True
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)


def visible_type(watcher: Watcher, event: WatchEvent) -> str | None:
    """The event type this watcher sees for `event`, after its label and field selectors (None: hidden)."""

    def matches(obj: Obj | None) -> bool:
        if obj is None:
            return False
        return watcher.labels((obj.get("metadata") or {}).get("labels") or {}) and watcher.fields(obj)

    now, before = matches(event.obj), matches(event.old)
    if event.type != "MODIFIED":
        return event.type if now else None
    if now and before:
        return "MODIFIED"
    if now:
        return "ADDED"
    return "DELETED" if before else None


def encode_event(info: KindInfo, watcher: Watcher, event: WatchEvent) -> bytes | None:
    """One watch line for `event` as this watcher sees it (None when its selectors hide it)."""
    if event.type == "BOOKMARK":
        obj: Obj = {
            "kind": info.kind, "apiVersion": info.api_version,
            "metadata": {"resourceVersion": str(event.resource_version)},
        }  # fmt: skip
        return json.dumps({"type": "BOOKMARK", "object": obj}).encode() + b"\n"
    visible = visible_type(watcher, event)
    if visible is None:
        return None
    obj = {**event.obj, "apiVersion": info.api_version, "kind": info.kind}
    return json.dumps({"type": visible, "object": obj}).encode() + b"\n"
