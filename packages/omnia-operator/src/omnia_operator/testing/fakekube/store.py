"""The fake API's state: objects, one resourceVersion counter, the event history and open watches.

Every operation is synchronous and runs on the event loop thread, so each one is atomic, exactly like a
write to etcd: it takes the next resourceVersion, stores a deep copy and appends one watch event. Watches
replay the history after a resourceVersion; versions older than the retained window answer 410 Gone.

Semantics kept from the real API server (k8s.io/apiserver registry/rest and apiextensions-apiserver):
- create sets uid, creationTimestamp, resourceVersion and (for kinds that have it) generation 1; status is
  dropped on create for kinds with a status subresource;
- update with a stale `metadata.resourceVersion` is 409 Conflict; custom resources refuse an update without
  one (422), built-in kinds accept it unconditionally;
- main-resource writes keep the stored status, `/status` writes keep everything but status;
- `metadata.generation` increases only when something besides metadata (and status) changes;
- delete of an object with finalizers only sets `deletionTimestamp`; the object goes when the last finalizer
  is removed. Garbage collection of dependents lives in `collector.py`.
"""

import asyncio
import base64
import copy
import re
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from omnia_operator.testing.fakekube import status as st
from omnia_operator.testing.fakekube.kinds import KindInfo, KindRegistry, established_status
from omnia_operator.testing.fakekube.selectors import Requirement
from omnia_operator.testing.fakekube.watchevents import KindKey, Obj, Watcher, WatchEvent

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
CRD_GROUP, CRD_PLURAL = "apiextensions.k8s.io", "customresourcedefinitions"


def _labels(obj: Obj) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _spec_part(obj: Obj, info: KindInfo) -> Obj:
    rest = {k: v for k, v in obj.items() if k not in ("metadata", "apiVersion", "kind")}
    if info.has_status:
        rest.pop("status", None)
    return rest


class ObjectStore:
    def __init__(self, *, history_limit: int = 1000, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.kinds = KindRegistry()
        self._objects: dict[KindKey, dict[tuple[str, str], Obj]] = {}
        self._uids: dict[str, tuple[KindKey, str, str]] = {}
        self._rv = 1
        self._history: deque[WatchEvent] = deque(maxlen=history_limit)
        self._compacted = 0  # watches from a version below this answer 410
        self._watchers: list[Watcher] = []
        self._clock = clock
        self.admit: Callable[[KindInfo, Obj, Obj | None], Obj] = lambda _info, obj, _old: obj
        """Validation/defaulting of custom resources (set by the server to the CRD schema validator)."""
        self.on_delete: Callable[[], None] = lambda: None
        """Called after an object is removed, so garbage collection can look for orphans."""

    # ------------------------------------------------------------------ reading
    @property
    def resource_version(self) -> int:
        return self._rv

    def _bucket(self, info: KindInfo) -> dict[tuple[str, str], Obj]:
        return self._objects.setdefault((info.group, info.plural), {})

    def _present(self, info: KindInfo, obj: Obj) -> Obj:
        out = copy.deepcopy(obj)
        out["apiVersion"] = info.api_version
        out["kind"] = info.kind
        return out

    def _key(self, info: KindInfo, namespace: str | None, name: str) -> tuple[str, str]:
        return (namespace or "" if info.namespaced else "", name)

    def peek(self, info: KindInfo, namespace: str | None, name: str) -> Obj | None:
        """The stored object (not a copy) or None."""
        return self._bucket(info).get(self._key(info, namespace, name))

    def get(self, info: KindInfo, namespace: str | None, name: str) -> Obj:
        obj = self.peek(info, namespace, name)
        if obj is None:
            raise st.not_found(info.resource, name)
        return self._present(info, obj)

    def list_objects(
        self, info: KindInfo, namespace: str | None, labels: Requirement, fields: Callable[[Obj], bool]
    ) -> tuple[list[Obj], int]:
        items = [
            self._present(info, obj)
            for (ns, _), obj in sorted(self._bucket(info).items())
            if (not namespace or ns == namespace) and labels(_labels(obj)) and fields(obj)
        ]
        return items, self._rv

    def all_objects(self) -> list[tuple[KindKey, Obj]]:
        return [(key, obj) for key, bucket in self._objects.items() for obj in bucket.values()]

    def find_uid(self, uid: str) -> tuple[KindKey, str, str] | None:
        return self._uids.get(uid)

    def info_for(self, key: KindKey) -> KindInfo | None:
        return next((i for i in self.kinds.all() if (i.group, i.plural) == key), None)

    # ------------------------------------------------------------------ writing
    def _now(self) -> str:
        return self._clock().strftime("%Y-%m-%dT%H:%M:%SZ")

    def _commit(self, info: KindInfo, event_type: str, obj: Obj, old: Obj | None) -> int:
        self._rv += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self._rv)
        namespace = obj["metadata"].get("namespace", "")
        event = WatchEvent(self._rv, event_type, (info.group, info.plural), namespace, copy.deepcopy(obj), old)
        if len(self._history) == self._history.maxlen and self._history:
            self._compacted = self._history[0].resource_version
        self._history.append(event)
        for watcher in list(self._watchers):
            if watcher.closed or not watcher.wants(event):
                continue
            try:
                watcher.queue.put_nowait(event)
            except asyncio.QueueFull:
                watcher.drop()  # the real API server also closes watches that cannot keep up
        return self._rv

    def _check_name(self, info: KindInfo, name: str) -> None:
        if not name or len(name) > 253 or not _NAME.match(name):
            raise st.invalid(
                info.kind, info.group, name,
                [("metadata.name", "FieldValueInvalid",
                  f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric '
                  "characters, '-' or '.', and must start and end with an alphanumeric character")],
            )  # fmt: skip

    def create(self, info: KindInfo, namespace: str | None, body: Obj) -> Obj:
        obj = copy.deepcopy(body)
        metadata = obj.setdefault("metadata", {})
        if info.namespaced:
            if metadata.get("namespace") and namespace and metadata["namespace"] != namespace:
                raise st.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            metadata["namespace"] = namespace or metadata.get("namespace") or "default"
        else:
            metadata.pop("namespace", None)
        if not metadata.get("name") and metadata.get("generateName"):
            metadata["name"] = f"{metadata['generateName']}{uuid.uuid4().hex[:5]}"
        name = metadata.get("name", "")
        if not name:
            raise st.invalid(
                info.kind,
                info.group,
                "",
                [("metadata.name", "FieldValueRequired", "Required value: name or generateName is required")],
            )
        self._check_name(info, name)
        key = self._key(info, metadata.get("namespace"), name)
        if key in self._bucket(info):
            raise st.already_exists(info.resource, name)
        if metadata.get("resourceVersion"):
            # the real storage layer refuses this with a plain error, which the API server answers as a 500
            raise st.internal_error("resourceVersion should not be set on objects to be created")
        for dropped in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "uid", "generation"):
            metadata.pop(dropped, None)
        metadata["uid"] = str(uuid.uuid4())
        metadata["creationTimestamp"] = self._now()
        if info.has_generation:
            metadata["generation"] = 1
        if info.has_status:
            obj.pop("status", None)
        self._normalise(info, obj)
        obj = self.admit(info, obj, None)
        if (info.group, info.plural) == (CRD_GROUP, CRD_PLURAL):
            self._register_crd(obj)
        self._bucket(info)[key] = obj
        self._uids[metadata["uid"]] = ((info.group, info.plural), key[0], name)
        self._commit(info, "ADDED", obj, None)
        return self._present(info, obj)

    def update(self, info: KindInfo, namespace: str | None, name: str, body: Obj, *, subresource: str = "") -> Obj:
        old = self.peek(info, namespace, name)
        if old is None:
            raise st.not_found(info.resource, name)
        metadata = body.get("metadata") or {}
        if metadata.get("name", name) != name:
            raise st.bad_request(
                f"the name of the object ({metadata.get('name')}) does not match the name on the URL ({name})"
            )
        if info.namespaced and metadata.get("namespace") and metadata["namespace"] != old["metadata"].get("namespace"):
            raise st.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        wanted_rv = metadata.get("resourceVersion")
        if not wanted_rv and info.custom:
            raise st.invalid(
                info.kind,
                info.group,
                name,
                [
                    (
                        "metadata.resourceVersion",
                        "FieldValueInvalid",
                        "Invalid value: 0x0: must be specified for an update",
                    )
                ],
            )
        if wanted_rv and wanted_rv != old["metadata"]["resourceVersion"]:
            raise st.stale_resource_version(info.resource, name)
        return self._store_update(info, old, body, subresource=subresource)

    def _store_update(self, info: KindInfo, old: Obj, body: Obj, *, subresource: str = "") -> Obj:
        if subresource == "status":
            new = copy.deepcopy(old)
            if "status" in body:
                new["status"] = copy.deepcopy(body["status"])
            else:
                new.pop("status", None)
            new = self.admit(info, new, old)
        else:
            new = copy.deepcopy(body)
            if info.has_status:
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
                else:
                    new.pop("status", None)
            new_meta = new.setdefault("metadata", {})
            old_meta = old["metadata"]
            for kept in ("uid", "creationTimestamp", "namespace", "name", "deletionTimestamp",
                         "deletionGracePeriodSeconds", "generation"):  # fmt: skip
                if kept in old_meta:
                    new_meta[kept] = old_meta[kept]
                else:
                    new_meta.pop(kept, None)
            if old_meta.get("deletionTimestamp"):
                added = set(new_meta.get("finalizers") or []) - set(old_meta.get("finalizers") or [])
                if added:
                    raise st.invalid(
                        info.kind,
                        info.group,
                        old_meta["name"],
                        [
                            (
                                "metadata.finalizers",
                                "FieldValueForbidden",
                                "Forbidden: no new finalizers can be added if the object is being deleted",
                            )
                        ],
                    )
            self._normalise(info, new)
            new = self.admit(info, new, old)
        if info.has_generation and _spec_part(new, info) != _spec_part(old, info):
            new["metadata"]["generation"] = int(old["metadata"].get("generation", 1)) + 1
        comparable_new = {k: v for k, v in new.items() if k not in ("apiVersion", "kind")}
        comparable_old = {k: v for k, v in old.items() if k not in ("apiVersion", "kind")}
        if comparable_new == comparable_old:
            return self._present(info, old)  # a no-op write keeps the resourceVersion, as on a real cluster
        meta = new["metadata"]
        key = self._key(info, meta.get("namespace"), meta["name"])
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            self._remove(info, key, new)
            return self._present(info, new)
        if (info.group, info.plural) == (CRD_GROUP, CRD_PLURAL):
            self._register_crd(new)
        self._bucket(info)[key] = new
        self._commit(info, "MODIFIED", new, old)
        return self._present(info, new)

    def replace_stored(self, info: KindInfo, old: Obj, new: Obj, *, subresource: str = "") -> Obj:
        """Write `new` over `old` with no precondition (used by patch and by the garbage collector)."""
        return self._store_update(info, old, new, subresource=subresource)

    def delete(self, info: KindInfo, namespace: str | None, name: str, *, propagation: str = "Background",
               precondition_uid: str | None = None, precondition_rv: str | None = None) -> Obj:  # fmt: skip
        obj = self.peek(info, namespace, name)
        if obj is None:
            raise st.not_found(info.resource, name)
        meta = obj["metadata"]
        if precondition_uid and precondition_uid != meta["uid"]:
            raise st.conflict(
                info.resource,
                name,
                f"Precondition failed: UID in precondition: {precondition_uid}, UID in object meta: {meta['uid']}",
            )
        if precondition_rv and precondition_rv != meta["resourceVersion"]:
            raise st.conflict(
                info.resource,
                name,
                f"Precondition failed: ResourceVersion in precondition: {precondition_rv}, "
                f"ResourceVersion in object meta: {meta['resourceVersion']}",
            )
        finalizers = list(meta.get("finalizers") or [])
        if propagation == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        elif propagation == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        if not finalizers:
            self._remove(info, self._key(info, meta.get("namespace"), name), copy.deepcopy(obj))
            return self._present(info, obj)
        if meta.get("deletionTimestamp") and finalizers == meta.get("finalizers"):
            return self._present(info, obj)
        new = copy.deepcopy(obj)
        new["metadata"]["finalizers"] = finalizers
        new["metadata"].setdefault("deletionTimestamp", self._now())
        new["metadata"].setdefault("deletionGracePeriodSeconds", 0)
        self._bucket(info)[self._key(info, meta.get("namespace"), name)] = new
        self._commit(info, "MODIFIED", new, obj)
        self.on_delete()
        return self._present(info, new)

    def _remove(self, info: KindInfo, key: tuple[str, str], obj: Obj) -> None:
        self._bucket(info).pop(key, None)
        self._uids.pop(obj["metadata"].get("uid", ""), None)
        self._commit(info, "DELETED", obj, None)
        if (info.group, info.plural) == (CRD_GROUP, CRD_PLURAL):
            for crd_kind in self.kinds.unregister_crd(obj["metadata"]["name"])[:1]:
                for (ns, name), custom in list(self._bucket(crd_kind).items()):
                    self._remove(crd_kind, (ns, name), copy.deepcopy(custom))
        self.on_delete()

    def _normalise(self, info: KindInfo, obj: Obj) -> None:
        if (info.group, info.plural) == ("", "secrets") and "stringData" in obj:
            data = obj.setdefault("data", {}) or {}
            for key, value in (obj.pop("stringData") or {}).items():
                data[key] = base64.b64encode(str(value).encode()).decode()
            obj["data"] = data

    def _register_crd(self, crd: Obj) -> None:
        try:
            self.kinds.register_crd(crd)
        except (KeyError, TypeError) as e:
            raise st.invalid(
                "CustomResourceDefinition",
                CRD_GROUP,
                crd["metadata"].get("name", ""),
                [("spec", "FieldValueInvalid", f"Invalid value: {e}")],
            ) from e
        crd["status"] = established_status(crd, self._now())

    # ------------------------------------------------------------------ watching
    def open_watch(
        self, info: KindInfo, namespace: str | None, resource_version: str | None, labels: Requirement,
        fields: Callable[[Obj], bool],
    ) -> Watcher:  # fmt: skip
        """Register a watch and queue what it must see first: current objects, or the history after the version."""
        watcher = Watcher(info, namespace, labels, fields)
        if not resource_version or resource_version == "0":
            for (ns, _), obj in sorted(self._bucket(info).items()):
                if not namespace or ns == namespace:
                    rv = int(obj["metadata"]["resourceVersion"])
                    watcher.queue.put_nowait(WatchEvent(rv, "ADDED", (info.group, info.plural), ns, copy.deepcopy(obj)))
        else:
            try:
                since = int(resource_version)
            except ValueError as e:
                raise st.bad_request(f"invalid resource version {resource_version!r}") from e
            if since < self._compacted:
                raise st.gone(resource_version, self._compacted)
            for event in self._history:
                if event.resource_version > since and watcher.wants(event):
                    watcher.queue.put_nowait(event)
        self._watchers.append(watcher)
        return watcher

    def close_watch(self, watcher: Watcher) -> None:
        watcher.closed = True
        if watcher in self._watchers:
            self._watchers.remove(watcher)

    def drop_watches(self) -> int:
        watchers, self._watchers = self._watchers, []
        for watcher in watchers:
            watcher.drop()
        return len(watchers)

    @property
    def watch_count(self) -> int:
        return len(self._watchers)

    def compact(self) -> None:
        """Forget the event history, as etcd compaction does: watching from any older version answers 410."""
        self._history.clear()
        self._compacted = self._rv
