"""Structural-schema handling of custom resources, in the API server's order: prune, default, validate.

- Pruning drops fields the schema does not declare (unless `x-kubernetes-preserve-unknown-fields` or
  `additionalProperties` allow them) and `null` values of non-nullable fields; the dropped paths are returned so
  the server can refuse them under `fieldValidation=Strict`, as kubectl's default does.
- Defaulting fills absent properties that declare a `default` (then prunes/defaults inside the default).
- Validation checks types (with `x-kubernetes-int-or-string`), enum, minimum/maximum (and exclusive), multipleOf,
  minLength/maxLength, pattern, minItems/maxItems, uniqueness of `x-kubernetes-list-type: map|set` items,
  required, min/maxProperties, allOf/anyOf/oneOf, and the CEL rules of `x-kubernetes-validations` (cel_rules.py).
  Each failure is a `Cause(field, reason, message)` worded like apimachinery's field errors, e.g.
  `spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0`.

Not covered: `format` checks other than int32/int64 ranges, validation ratcheting, embedded-resource markers.
"""

import copy
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from omnia_operator.testing.fakekube.cel_rules import MISSING, check_rules

ROOT_KEPT = ("apiVersion", "kind", "metadata")
# Like the API server, CEL rules are not run on an object with type errors or missing required fields.
_BLOCKING = frozenset({"FieldValueTypeInvalid", "FieldValueRequired"})
_RULES_SKIPPED = (
    'Invalid value: "null": some validation rules were not checked because the object was invalid; '
    "correct the existing errors to complete validation"
)
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


@dataclass(frozen=True)
class Cause:
    field: str
    reason: str
    message: str


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _shown(value: Any) -> str:
    return f'"{_type_name(value)}"' if isinstance(value, dict | list) else json.dumps(value)


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# ---------------------------------------------------------------------------------------------- prune + default
def prune_and_default(schema: dict[str, Any], value: Any, path: str = "", unknown: list[str] | None = None) -> Any:
    """A pruned, defaulted copy of `value`; appends dropped field paths to `unknown`."""
    unknown = unknown if unknown is not None else []
    if isinstance(value, dict) and not schema.get("x-kubernetes-int-or-string"):
        properties: dict[str, Any] = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not path and key in ROOT_KEPT:
                result[key] = item
            elif key in properties:
                if item is None and not properties[key].get("nullable"):
                    continue
                result[key] = prune_and_default(properties[key], item, _join(path, key), unknown)
            elif isinstance(additional, dict):
                result[key] = prune_and_default(additional, item, f"{path}[{key}]", unknown)
            elif additional is True or preserve:
                result[key] = item
            else:
                unknown.append(_join(path, key))
        for key, sub in properties.items():
            if key not in result and "default" in sub:
                result[key] = prune_and_default(sub, copy.deepcopy(sub["default"]), _join(path, key), unknown)
        return result
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [prune_and_default(schema["items"], item, f"{path}[{i}]", unknown) for i, item in enumerate(value)]
    return value


# ---------------------------------------------------------------------------------------------- validation
def _check_type(schema: dict[str, Any], value: Any, path: str) -> Cause | None:
    if schema.get("x-kubernetes-int-or-string"):
        if isinstance(value, int | str) and not isinstance(value, bool):
            return None
        wanted = "integer or string"
    else:
        wanted = schema.get("type")
        if not wanted:
            return None
        actual = _type_name(value)
        if actual == wanted or (wanted == "number" and actual == "integer"):
            return None
    name = _type_name(value)
    return Cause(
        path, "FieldValueTypeInvalid", f'Invalid value: "{name}": {path} in body must be of type {wanted}: "{name}"'
    )


def _check_scalar(schema: dict[str, Any], value: Any, path: str, causes: list[Cause]) -> None:
    if "enum" in schema and value not in schema["enum"]:
        supported = ", ".join(json.dumps(v) for v in schema["enum"])
        causes.append(
            Cause(
                path, "FieldValueNotSupported", f"Unsupported value: {json.dumps(value)}: supported values: {supported}"
            )
        )
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            causes.append(
                Cause(
                    path,
                    "FieldValueInvalid",
                    f"Invalid value: {json.dumps(value)}: {path} in body should be at least {schema['minLength']} "
                    "chars long",
                )
            )
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            causes.append(
                Cause(path, "FieldValueTooLong", f"Too long: may not be more than {schema['maxLength']} bytes")
            )
        if "pattern" in schema and not _regex(schema["pattern"]).search(value):
            causes.append(
                Cause(
                    path,
                    "FieldValueInvalid",
                    f"Invalid value: {json.dumps(value)}: {path} in body should match '{schema['pattern']}'",
                )
            )
    if isinstance(value, int | float) and not isinstance(value, bool):
        minimum, maximum = schema.get("minimum"), schema.get("maximum")
        if minimum is not None and (value <= minimum if schema.get("exclusiveMinimum") else value < minimum):
            relation = "greater than" if schema.get("exclusiveMinimum") else "greater than or equal to"
            causes.append(
                Cause(
                    path, "FieldValueInvalid", f"Invalid value: {value}: {path} in body should be {relation} {minimum}"
                )
            )
        if maximum is not None and (value >= maximum if schema.get("exclusiveMaximum") else value > maximum):
            relation = "less than" if schema.get("exclusiveMaximum") else "less than or equal to"
            causes.append(
                Cause(
                    path, "FieldValueInvalid", f"Invalid value: {value}: {path} in body should be {relation} {maximum}"
                )
            )
        if schema.get("multipleOf") and value % schema["multipleOf"]:
            causes.append(
                Cause(
                    path,
                    "FieldValueInvalid",
                    f"Invalid value: {value}: {path} in body should be a multiple of {schema['multipleOf']}",
                )
            )
        bounds = _INT_RANGES.get(schema.get("format", ""))
        if bounds and isinstance(value, int) and not bounds[0] <= value <= bounds[1]:
            causes.append(
                Cause(
                    path,
                    "FieldValueInvalid",
                    f"Invalid value: {value}: {path} in body is out of the {schema['format']} range",
                )
            )


def _check_array(
    schema: dict[str, Any], value: list[Any], path: str, old: Any, causes: list[Cause], rule_causes: list[Cause]
) -> None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        causes.append(
            Cause(
                path,
                "FieldValueInvalid",
                f"Invalid value: {len(value)}: {path} in body should have at least {schema['minItems']} items",
            )
        )
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        causes.append(
            Cause(path, "FieldValueTooMany", f"Too many: {len(value)}: must have at most {schema['maxItems']} items")
        )
    list_type = schema.get("x-kubernetes-list-type")
    if list_type == "set" or schema.get("uniqueItems"):
        seen: list[Any] = []
        for index, item in enumerate(value):
            if item in seen:
                causes.append(Cause(f"{path}[{index}]", "FieldValueDuplicate", f"Duplicate value: {_shown(item)}"))
            seen.append(item)
    elif list_type == "map":
        keys = schema.get("x-kubernetes-list-map-keys") or []
        seen_keys: set[str] = set()
        for index, item in enumerate(value):
            if isinstance(item, dict):
                identity = json.dumps({k: item.get(k) for k in keys}, sort_keys=True)
                if identity in seen_keys:
                    causes.append(Cause(f"{path}[{index}]", "FieldValueDuplicate", f"Duplicate value: {identity}"))
                seen_keys.add(identity)
    items = schema.get("items")
    if isinstance(items, dict):
        old_by_key = _old_items_by_key(schema, old)
        for index, item in enumerate(value):
            item_old = old_by_key.get(_item_key(schema, item), MISSING) if old_by_key else MISSING
            validate(items, item, f"{path}[{index}]", item_old, causes, rule_causes)


def _item_key(schema: dict[str, Any], item: Any) -> str:
    keys = schema.get("x-kubernetes-list-map-keys") or []
    return json.dumps({k: item.get(k) for k in keys}, sort_keys=True) if isinstance(item, dict) else json.dumps(item)


def _old_items_by_key(schema: dict[str, Any], old: Any) -> dict[str, Any]:
    """Old items correlate with new ones only for `map` and `set` lists, as for CEL's oldSelf in the API server."""
    if schema.get("x-kubernetes-list-type") not in ("map", "set") or not isinstance(old, list):
        return {}
    return {_item_key(schema, item): item for item in old}


def _check_object(
    schema: dict[str, Any], value: dict[str, Any], path: str, old: Any, causes: list[Cause], rule_causes: list[Cause]
) -> None:
    missing = [key for key in schema.get("required") or [] if key not in value]
    causes.extend(Cause(_join(path, key), "FieldValueRequired", "Required value") for key in missing)
    if "minProperties" in schema and len(value) < schema["minProperties"]:
        causes.append(
            Cause(
                path,
                "FieldValueInvalid",
                f"Invalid value: {len(value)}: {path} in body should have at least {schema['minProperties']} "
                "properties",
            )
        )
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        causes.append(
            Cause(
                path, "FieldValueTooMany", f"Too many: {len(value)}: must have at most {schema['maxProperties']} items"
            )
        )
    properties: dict[str, Any] = schema.get("properties") or {}
    additional = schema.get("additionalProperties")
    old_map = old if isinstance(old, dict) else {}
    for key, item in value.items():
        if not path and key in ROOT_KEPT:
            continue
        if key in properties:
            validate(properties[key], item, _join(path, key), old_map.get(key, MISSING), causes, rule_causes)
        elif isinstance(additional, dict):
            validate(additional, item, f"{path}[{key}]", old_map.get(key, MISSING), causes, rule_causes)


def validate(
    schema: dict[str, Any], value: Any, path: str, old: Any, causes: list[Cause], rule_causes: list[Cause]
) -> None:
    """Append every way `value` (at `path`, previously `old` or MISSING) violates `schema`: structural problems to
    `causes`, CEL rule failures to `rule_causes`."""
    if value is None:
        if not schema.get("nullable"):
            causes.append(
                Cause(
                    path,
                    "FieldValueTypeInvalid",
                    f'Invalid value: "null": {path} in body must be of type {schema.get("type", "object")}: "null"',
                )
            )
        return
    type_error = _check_type(schema, value, path)
    if type_error is not None:
        causes.append(type_error)
        return
    _check_scalar(schema, value, path, causes)
    if isinstance(value, list):
        _check_array(schema, value, path, old, causes, rule_causes)
    elif isinstance(value, dict):
        _check_object(schema, value, path, old, causes, rule_causes)
    for sub in schema.get("allOf") or []:
        validate(sub, value, path, old, causes, rule_causes)
    for combinator in ("anyOf", "oneOf"):
        options = schema.get(combinator)
        if not options:
            continue
        passing = 0
        for sub in options:
            trial: list[Cause] = []
            validate(sub, value, path, old, trial, [])
            passing += not trial
        if passing == 0 or (combinator == "oneOf" and passing > 1):
            which = "at least one schema (anyOf)" if combinator == "anyOf" else "exactly one schema (oneOf)"
            causes.append(
                Cause(
                    path, "FieldValueInvalid", f"Invalid value: {_shown(value)}: {path} in body must validate {which}"
                )
            )
    check_rules(schema, value, old, path, rule_causes.append, Cause)


def admit(
    schema: dict[str, Any], obj: dict[str, Any], old: dict[str, Any] | None
) -> tuple[dict[str, Any], list[str], list[Cause]]:
    """Prune, default and validate a custom resource: (admitted object, pruned field paths, causes)."""
    unknown: list[str] = []
    admitted = prune_and_default(schema, obj, "", unknown)
    causes: list[Cause] = []
    rule_causes: list[Cause] = []
    validate(schema, admitted, "", old if old is not None else MISSING, causes, rule_causes)
    if any(cause.reason in _BLOCKING for cause in causes):
        if rule_causes or _has_rules(schema):
            causes.append(Cause("<nil>", "FieldValueInvalid", _RULES_SKIPPED))
    else:
        causes.extend(rule_causes)
    return admitted, unknown, causes


def _has_rules(schema: Any) -> bool:
    if isinstance(schema, dict):
        return "x-kubernetes-validations" in schema or any(_has_rules(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_has_rules(v) for v in schema)
    return False
