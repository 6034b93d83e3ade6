"""JSON merge patch (RFC 7386) and JSON patch (RFC 6902), the two patch types the operator sends.

Both work on deep copies and raise `StatusError`: 400 when the patch document is malformed, 422 when a
well-formed JSON patch does not apply to the object (as the API server answers `kubectl patch --type json`).
"""

import copy
from typing import Any

from omnia_operator.testing.fakekube.status import StatusError, bad_request

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
MAX_PATCH_OPERATIONS = 10_000


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result: dict[str, Any] = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _unprocessable(message: str) -> StatusError:
    return StatusError(422, "Invalid", message)


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise bad_request(f"invalid JSON pointer {path!r}: it must be empty or start with '/'")
    if path == "":
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _index(container: list[Any], token: str, *, adding: bool) -> int:
    if adding and token == "-":
        return len(container)
    if not token.isdigit():
        raise _unprocessable(f"invalid array index {token!r}")
    index = int(token)
    limit = len(container) if adding else len(container) - 1
    if index > limit:
        raise _unprocessable(f"array index {index} out of bounds")
    return index


def _parent(doc: Any, parts: list[str]) -> Any:
    node = doc
    for token in parts[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, adding=False)]
        else:
            raise _unprocessable(f"doc is missing path: /{'/'.join(parts)}")
    return node


def _get(doc: Any, parts: list[str]) -> Any:
    if not parts:
        return doc
    parent = _parent(doc, parts)
    token = parts[-1]
    if isinstance(parent, dict):
        if token not in parent:
            raise _unprocessable(f"doc is missing key: /{'/'.join(parts)}")
        return parent[token]
    if isinstance(parent, list):
        return parent[_index(parent, token, adding=False)]
    raise _unprocessable(f"doc is missing path: /{'/'.join(parts)}")


def _remove(doc: Any, parts: list[str]) -> Any:
    parent = _parent(doc, parts)
    token = parts[-1]
    if isinstance(parent, dict):
        if token not in parent:
            raise _unprocessable(f"remove operation does not apply: doc is missing key: /{'/'.join(parts)}")
        return parent.pop(token)
    if isinstance(parent, list):
        return parent.pop(_index(parent, token, adding=False))
    raise _unprocessable(f"remove operation does not apply: doc is missing path: /{'/'.join(parts)}")


def _add(doc: Any, parts: list[str], value: Any, *, replace: bool = False) -> Any:
    if not parts:
        return value
    parent = _parent(doc, parts)
    token = parts[-1]
    if isinstance(parent, dict):
        if replace and token not in parent:
            raise _unprocessable(f"replace operation does not apply: doc is missing key: /{'/'.join(parts)}")
        parent[token] = value
    elif isinstance(parent, list):
        if replace:
            parent[_index(parent, token, adding=False)] = value
        else:
            parent.insert(_index(parent, token, adding=True), value)
    else:
        raise _unprocessable(f"add operation does not apply: doc is missing path: /{'/'.join(parts)}")
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise bad_request("json patch must be a JSON array of operations")
    if len(operations) > MAX_PATCH_OPERATIONS:
        raise StatusError(413, "RequestEntityTooLarge", f"json patch has more than {MAX_PATCH_OPERATIONS} operations")
    doc = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise bad_request(f"invalid json patch operation {operation!r}: it needs 'op' and 'path'")
        op = operation["op"]
        parts = _pointer(operation["path"])
        if op in ("add", "replace", "test") and "value" not in operation:
            raise bad_request(f"json patch {op} operation at {operation['path']!r} needs a 'value'")
        if op == "add":
            doc = _add(doc, parts, copy.deepcopy(operation["value"]))
        elif op == "replace":
            doc = _add(doc, parts, copy.deepcopy(operation["value"]), replace=True)
        elif op == "remove":
            _remove(doc, parts)
        elif op in ("move", "copy"):
            source = _pointer(operation.get("from"))
            value = _remove(doc, source) if op == "move" else copy.deepcopy(_get(doc, source))
            doc = _add(doc, parts, value)
        elif op == "test":
            if _get(doc, parts) != operation["value"]:
                raise _unprocessable(f"testing value {operation['path']} failed")
        else:
            raise bad_request(f"unknown json patch operation {op!r}")
    return doc
