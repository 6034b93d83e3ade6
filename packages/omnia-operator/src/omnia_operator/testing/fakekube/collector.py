"""Owner-reference garbage collection and the deletion finalizers the real garbage collector owns.

Like kube-controller-manager's garbage collector it runs after the DELETE has answered (the server wakes it
in the background), so clients observe dependents disappearing asynchronously:
- a dependent whose owners are all gone is deleted (background propagation);
- a dependent with some owners gone loses only the dangling owner references;
- an owner deleted with `propagationPolicy=Foreground` keeps the `foregroundDeletion` finalizer until its
  dependents are gone; with `Orphan` its dependents lose their owner reference and survive.
"""

import copy
import logging
from typing import Any

from omnia_operator.testing.fakekube.store import ObjectStore
from omnia_operator.testing.fakekube.watchevents import Obj

logger = logging.getLogger(__name__)
MAX_PASSES = 1000


def _dependents(store: ObjectStore, uid: str) -> list[tuple[Any, Obj]]:
    found: list[tuple[Any, Obj]] = []
    for key, obj in store.all_objects():
        refs = (obj.get("metadata") or {}).get("ownerReferences") or []
        if any(ref.get("uid") == uid for ref in refs):
            info = store.info_for(key)
            if info is not None:
                found.append((info, obj))
    return found


def _without_finalizer(obj: Obj, finalizer: str) -> Obj:
    new = copy.deepcopy(obj)
    new["metadata"]["finalizers"] = [f for f in new["metadata"].get("finalizers") or [] if f != finalizer]
    return new


def _one_pass(store: ObjectStore) -> int:
    changes = 0
    for key, snapshot in store.all_objects():
        info = store.info_for(key)
        meta = snapshot.get("metadata") or {}
        if info is None or store.peek(info, meta.get("namespace"), meta.get("name", "")) is not snapshot:
            continue  # changed or removed earlier in this pass
        finalizers = meta.get("finalizers") or []
        if meta.get("deletionTimestamp") and "orphan" in finalizers:
            for dep_info, dep in _dependents(store, meta["uid"]):
                new = copy.deepcopy(dep)
                refs = new["metadata"]["ownerReferences"]
                new["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != meta["uid"]]
                store.replace_stored(dep_info, dep, new)
            store.replace_stored(info, snapshot, _without_finalizer(snapshot, "orphan"))
            changes += 1
            continue
        if meta.get("deletionTimestamp") and "foregroundDeletion" in finalizers:
            dependents = _dependents(store, meta["uid"])
            for dep_info, dep in dependents:
                if not dep["metadata"].get("deletionTimestamp"):
                    dep_meta = dep["metadata"]
                    store.delete(dep_info, dep_meta.get("namespace"), dep_meta["name"], propagation="Foreground")
                    changes += 1
            if not dependents:
                store.replace_stored(info, snapshot, _without_finalizer(snapshot, "foregroundDeletion"))
                changes += 1
            continue
        refs = meta.get("ownerReferences") or []
        if not refs or meta.get("deletionTimestamp"):
            continue
        alive = [ref for ref in refs if store.find_uid(ref.get("uid", "")) is not None]
        if not alive:
            logger.debug("collecting %s %s/%s: its owners are gone", info.kind, meta.get("namespace"), meta["name"])
            store.delete(info, meta.get("namespace"), meta["name"], propagation="Background")
            changes += 1
        elif len(alive) != len(refs):
            new = copy.deepcopy(snapshot)
            new["metadata"]["ownerReferences"] = alive
            store.replace_stored(info, snapshot, new)
            changes += 1
    return changes


def collect_garbage(store: ObjectStore) -> int:
    """Run passes until nothing changes; returns the number of changes made."""
    total = 0
    for _ in range(MAX_PASSES):
        changes = _one_pass(store)
        if not changes:
            break
        total += changes
    return total
