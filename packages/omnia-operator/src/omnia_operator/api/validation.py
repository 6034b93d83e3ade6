"""Validate a custom resource against its CRD schema the way the API server does, without a cluster.

Used by `omnia-operator render` (and the tests) so a manifest that `kubectl apply` would reject is
rejected here with the same kind of message. Order as in the API server: apply schema defaults, then
check types, enums, bounds, patterns, required and unknown fields (strict field validation), then the
`x-kubernetes-validations` CEL rules on the defaulted object.
"""

import copy
import re
from typing import Any

import cel

from omnia_operator.api.crds import build_crd, definition_for
from omnia_operator.api.schema.dsl import JsonSchema

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def object_schema(kind: str) -> JsonSchema:
    """The openAPIV3Schema of one of our kinds."""
    crd = build_crd(definition_for(kind))
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def apply_defaults(schema: JsonSchema, value: Any) -> Any:
    """A copy of value with the schema defaults filled in, recursively (like the API server)."""
    value = copy.deepcopy(value)
    _default_into(schema, value)
    return value


def _default_into(schema: JsonSchema, value: Any) -> None:
    if isinstance(value, dict) and "properties" in schema:
        for name, sub in schema["properties"].items():
            if name not in value and "default" in sub:
                value[name] = copy.deepcopy(sub["default"])
            if name in value:
                _default_into(sub, value[name])
    elif isinstance(value, list) and "items" in schema:
        for item in value:
            _default_into(schema["items"], item)


def validate(schema: JsonSchema, value: Any, path: str = "") -> list[str]:
    """Every problem of value against schema (structure first, then CEL), as `path: message` strings."""
    problems: list[str] = []
    _check(schema, value, path, problems)
    if not problems:
        _check_rules(schema, value, path, problems)
    return problems


def _is_type(value: Any, type_name: str) -> bool:
    if type_name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[type_name])


def _check(schema: JsonSchema, value: Any, path: str, problems: list[str]) -> None:
    where = path or "<root>"
    type_name = schema.get("type")
    if type_name and not _is_type(value, type_name):
        problems.append(f"{where}: expected {type_name}, got {type(value).__name__}")
        return
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(f'"{v}"' for v in schema["enum"])
        problems.append(f'{where}: Unsupported value: "{value}": supported values: {allowed}')
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            problems.append(f"{where}: should match '{schema['pattern']}'")
        if "minLength" in schema and len(value) < schema["minLength"]:
            problems.append(f"{where}: should be at least {schema['minLength']} chars long")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            problems.append(f"{where}: may not be longer than {schema['maxLength']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{where}: should be greater than or equal to {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{where}: should be less than or equal to {schema['maximum']}")
    if isinstance(value, list):
        _check_list(schema, value, path, problems)
    if isinstance(value, dict):
        _check_object(schema, value, path, problems)


def _check_list(schema: JsonSchema, value: list[Any], path: str, problems: list[str]) -> None:
    where = path or "<root>"
    if "minItems" in schema and len(value) < schema["minItems"]:
        problems.append(f"{where}: should have at least {schema['minItems']} items")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        problems.append(f"{where}: must have at most {schema['maxItems']} items")
    items = schema.get("items")
    if items is not None:
        for index, item in enumerate(value):
            _check(items, item, f"{path}[{index}]", problems)
    if schema.get("x-kubernetes-list-type") == "map":
        keys = schema.get("x-kubernetes-list-map-keys", [])
        seen: set[tuple[Any, ...]] = set()
        for index, item in enumerate(value):
            if isinstance(item, dict):
                key = tuple(item.get(k) for k in keys)
                if key in seen:
                    problems.append(f"{path}[{index}]: Duplicate value: {dict(zip(keys, key, strict=True))}")
                seen.add(key)


def _check_object(schema: JsonSchema, value: dict[str, Any], path: str, problems: list[str]) -> None:
    problems.extend(f"{path}.{name}: Required value" for name in schema.get("required", []) if name not in value)
    properties: dict[str, JsonSchema] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    preserve = schema.get("x-kubernetes-preserve-unknown-fields", False)
    for name, item in value.items():
        if name in properties:
            _check(properties[name], item, f"{path}.{name}", problems)
        elif isinstance(extra, dict):
            _check(extra, item, f"{path}.{name}", problems)
        elif not preserve and "properties" in schema:
            problems.append(f'{path}: unknown field "{name}"')


def _check_rules(schema: JsonSchema, value: Any, path: str, problems: list[str]) -> None:
    for rule in schema.get("x-kubernetes-validations", []):
        try:
            ok = cel.evaluate(rule["rule"], {"self": value})
        except Exception as e:  # the cel library raises plain exceptions for evaluation errors
            problems.append(f"{path or '<root>'}: cannot evaluate rule {rule['rule']!r}: {e}")
            continue
        if ok is not True:
            problems.append(f"{path or '<root>'}: Invalid value: {rule['message']}")
    if isinstance(value, dict):
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                _check_rules(sub, value[name], f"{path}.{name}", problems)
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            _check_rules(schema["items"], item, f"{path}[{index}]", problems)


def validate_resource(obj: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Default then validate the spec of one of our objects; returns (defaulted object, problems)."""
    schema = object_schema(str(obj.get("kind")))
    spec_schema = schema["properties"]["spec"]
    defaulted = copy.deepcopy(obj)
    if "spec" not in defaulted:
        return defaulted, [".spec: Required value"]
    defaulted["spec"] = apply_defaults(spec_schema, defaulted["spec"])
    return defaulted, validate(spec_schema, defaulted["spec"], ".spec")
