"""Create-or-update of owned children, writing only when our fields differ from what is stored.

"Differ" is judged as a subset: every field we set must be present with the same value; fields the API
server adds (defaults, clusterIP, status) are ignored. An update merges our fields into the stored object
so server-owned fields survive, and is retried on a stale resourceVersion.
"""

import copy
import logging
from typing import Any

from omnia_operator.kube.client import KubeClient
from omnia_operator.kube.errors import AlreadyExistsError, ConflictError, NotFoundError
from omnia_operator.kube.resources import KubeObject, ResourceKind
from omnia_operator.reconcile.child_cache import ChildCache

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 4


class ChildConflictError(Exception):
    """An object with the child's name exists and belongs to someone else."""


def is_subset(desired: Any, actual: Any) -> bool:
    if isinstance(desired, dict):
        return isinstance(actual, dict) and all(k in actual and is_subset(v, actual[k]) for k, v in desired.items())
    if isinstance(desired, list):
        return (
            isinstance(actual, list)
            and len(desired) == len(actual)
            and all(is_subset(d, a) for d, a in zip(desired, actual, strict=True))
        )
    return desired == actual


def merged(actual: KubeObject, desired: KubeObject) -> KubeObject:
    """actual with desired laid over it: maps merge recursively, lists and scalars are replaced."""
    result = copy.deepcopy(actual)

    def lay(target: dict[str, Any], source: dict[str, Any]) -> None:
        for key, value in source.items():
            if isinstance(value, dict) and isinstance(target.get(key), dict):
                lay(target[key], value)
            else:
                target[key] = copy.deepcopy(value)

    lay(result, desired)
    result.pop("status", None)
    return result


def owned_by(obj: KubeObject, uid: str) -> bool:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return any(r.get("uid") == uid and r.get("controller") for r in refs)


async def _read(client: KubeClient, kind: ResourceKind, name: str, namespace: str) -> KubeObject | None:
    try:
        return await client.get(kind, name, namespace)
    except NotFoundError:
        return None


async def apply_child(
    client: KubeClient, kind: ResourceKind, desired: KubeObject, owner_uid: str, cache: ChildCache | None = None
) -> KubeObject:
    """Make the stored object match desired; returns the stored object. Writes nothing when it already matches.

    With a `cache` serving the kind, the first attempt reads the cache instead of the API (see child_cache.py);
    every later attempt reads the API."""
    meta = desired["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    cached = cache is not None and cache.serves(kind, namespace)
    for _ in range(MAX_ATTEMPTS):
        from_cache, cached = cached, False
        actual = (
            cache.get(kind, name, namespace) if from_cache and cache else await _read(client, kind, name, namespace)
        )
        if actual is None:
            try:
                created = await client.create(kind, desired)
                logger.info("created %s %s/%s", kind.kind, namespace, name)
                return created
            except AlreadyExistsError:
                continue
        if not owned_by(actual, owner_uid):
            if from_cache:
                continue  # make sure from the API before reporting a conflict
            raise ChildConflictError(
                f"{kind.kind} {meta['name']} already exists and is not owned by this AgentRuntime; delete or rename it"
            )
        if is_subset(desired, actual):
            return actual
        try:
            updated = await client.replace(kind, merged(actual, desired))
            logger.info("updated %s %s/%s (drifted from desired)", kind.kind, meta["namespace"], meta["name"])
            return updated
        except (ConflictError, NotFoundError):
            continue
    raise ConflictError(f"{kind.kind} {meta['name']} kept changing during {MAX_ATTEMPTS} update attempts")


async def delete_if_owned(
    client: KubeClient, kind: ResourceKind, name: str, namespace: str, owner_uid: str, cache: ChildCache | None = None
) -> bool:
    """Delete a child we no longer want (and only if it is ours); with a `cache` serving the kind, only what the
    cache holds is considered (see child_cache.py)."""
    if cache is not None and cache.serves(kind, namespace):
        actual = cache.get(kind, name, namespace)
    else:
        actual = await _read(client, kind, name, namespace)
    if actual is None or not owned_by(actual, owner_uid):
        return False
    try:
        await client.delete(kind, name, namespace=namespace)
    except NotFoundError:
        return False
    logger.info("deleted %s %s/%s (no longer needed)", kind.kind, namespace, name)
    return True
