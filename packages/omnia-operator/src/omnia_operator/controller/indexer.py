"""Secondary indexes over an informer's cache: "which cached objects have this value" in O(1).

An index is a name and a function from an object to the values it is filed under (for example an
AgentRuntime → the ``(namespace, name)`` of the PromptPack it references). The informer keeps every index
current on each change *before* it calls its change callbacks, so a mapper running in a callback of any
informer sees indexes that agree with the caches. Each object's values are remembered, so a change that
moves an object from one value to another (an agent switching packs) unfiles it from the old value, and a
delete unfiles it from all of them.

An index function must be cheap and total; one that raises is logged and the object is filed under no
value (the operator keeps running on a malformed object; its own reconcile reports the problem).
"""

import logging
from collections.abc import Callable, Hashable, Iterable, Mapping

from omnia_operator.kube.resources import KubeObject

logger = logging.getLogger(__name__)

CacheKey = tuple[str, str]
IndexFunc = Callable[[KubeObject], Iterable[Hashable]]


class Indexer:
    """Named indexes over objects identified by their cache key ``(namespace, name)``."""

    def __init__(self) -> None:
        self._funcs: dict[str, IndexFunc] = {}
        self._keys_by_value: dict[str, dict[Hashable, set[CacheKey]]] = {}
        self._values_by_key: dict[str, dict[CacheKey, frozenset[Hashable]]] = {}

    @property
    def names(self) -> list[str]:
        return list(self._funcs)

    def add(self, name: str, func: IndexFunc, existing: Mapping[CacheKey, KubeObject] | None = None) -> None:
        """Define index `name`; `existing` (the cache so far) is filed at once."""
        if name in self._funcs:
            raise ValueError(f"index {name!r} is already defined; give each index its own name")
        self._funcs[name] = func
        self._keys_by_value[name] = {}
        self._values_by_key[name] = {}
        for key, obj in (existing or {}).items():
            self._file(name, key, obj)

    def update(self, key: CacheKey, obj: KubeObject) -> None:
        """`obj` is now what the cache holds under `key` (added or changed)."""
        for name in self._funcs:
            self._file(name, key, obj)

    def remove(self, key: CacheKey) -> None:
        """`key` left the cache."""
        for name in self._funcs:
            self._unfile(name, key, self._values_by_key[name].pop(key, frozenset()))

    def keys(self, name: str, value: Hashable) -> list[CacheKey]:
        """Cache keys filed under `value` in index `name`, sorted (a stable order for callers and tests)."""
        try:
            index = self._keys_by_value[name]
        except KeyError:
            raise LookupError(f"no index named {name!r}; define it with add_index before use") from None
        return sorted(index.get(value, ()))

    def _values(self, name: str, obj: KubeObject) -> frozenset[Hashable]:
        try:
            return frozenset(self._funcs[name](obj))
        except Exception:
            logger.exception("index %s failed on %s; the object is not indexed", name, obj.get("metadata", {}))
            return frozenset()

    def _file(self, name: str, key: CacheKey, obj: KubeObject) -> None:
        new = self._values(name, obj)
        old = self._values_by_key[name].get(key, frozenset())
        if new == old:
            return
        self._unfile(name, key, old - new)
        index = self._keys_by_value[name]
        for value in new - old:
            index.setdefault(value, set()).add(key)
        if new:
            self._values_by_key[name][key] = new
        else:
            self._values_by_key[name].pop(key, None)

    def _unfile(self, name: str, key: CacheKey, values: Iterable[Hashable]) -> None:
        index = self._keys_by_value[name]
        for value in values:
            keys = index.get(value)
            if keys is None:
                continue
            keys.discard(key)
            if not keys:
                del index[value]
