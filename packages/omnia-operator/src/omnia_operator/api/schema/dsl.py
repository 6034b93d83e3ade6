"""A tiny vocabulary for writing structural openAPIV3Schema fragments.

Every builder demands a description, so `kubectl explain` has something to say about every field and a
field without one cannot be written at all. The output is plain dicts in the shape Kubernetes expects
(`type`, `properties`, `x-kubernetes-validations`...), ready to be dumped into a CRD manifest.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

JsonSchema = dict[str, Any]


@dataclass(frozen=True)
class Rule:
    """One `x-kubernetes-validations` CEL rule with the message the API server returns when it fails."""

    rule: str
    message: str

    def as_schema(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


def _described(description: str, schema: JsonSchema) -> JsonSchema:
    text = description.strip()
    if not text:
        raise ValueError("every schema field needs a description (kubectl explain shows it)")
    return {"description": text, **schema}


def _with_rules(schema: JsonSchema, rules: Sequence[Rule]) -> JsonSchema:
    if rules:
        schema["x-kubernetes-validations"] = [r.as_schema() for r in rules]
    return schema


def string(
    description: str,
    *,
    enum: Sequence[str] | None = None,
    default: str | None = None,
    pattern: str | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    fmt: str | None = None,
) -> JsonSchema:
    schema: JsonSchema = {"type": "string"}
    if enum is not None:
        schema["enum"] = list(enum)
    if default is not None:
        schema["default"] = default
    if pattern is not None:
        schema["pattern"] = pattern
    if min_length is not None:
        schema["minLength"] = min_length
    if max_length is not None:
        schema["maxLength"] = max_length
    if fmt is not None:
        schema["format"] = fmt
    return _described(description, schema)


def integer(
    description: str,
    *,
    default: int | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
    fmt: str = "int32",
) -> JsonSchema:
    schema: JsonSchema = {"type": "integer", "format": fmt}
    if default is not None:
        schema["default"] = default
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    return _described(description, schema)


def boolean(description: str, *, default: bool | None = None) -> JsonSchema:
    schema: JsonSchema = {"type": "boolean"}
    if default is not None:
        schema["default"] = default
    return _described(description, schema)


def array(
    description: str,
    items: JsonSchema,
    *,
    min_items: int | None = None,
    max_items: int | None = None,
    list_type: str | None = None,
    map_keys: Sequence[str] | None = None,
    default: list[Any] | None = None,
    rules: Sequence[Rule] = (),
) -> JsonSchema:
    schema: JsonSchema = {"type": "array", "items": items}
    if min_items is not None:
        schema["minItems"] = min_items
    if max_items is not None:
        schema["maxItems"] = max_items
    if list_type is not None:
        schema["x-kubernetes-list-type"] = list_type
    if map_keys is not None:
        schema["x-kubernetes-list-map-keys"] = list(map_keys)
    if default is not None:
        schema["default"] = default
    return _with_rules(_described(description, schema), rules)


def obj(
    description: str,
    properties: Mapping[str, JsonSchema],
    *,
    required: Sequence[str] = (),
    rules: Sequence[Rule] = (),
    default: dict[str, Any] | None = None,
) -> JsonSchema:
    unknown = [name for name in required if name not in properties]
    if unknown:
        raise ValueError(f"required fields {unknown} are not declared")
    schema: JsonSchema = {"type": "object", "properties": dict(properties)}
    if required:
        schema["required"] = list(required)
    if default is not None:
        schema["default"] = default
    return _with_rules(_described(description, schema), rules)


def string_map(description: str, *, max_properties: int | None = None) -> JsonSchema:
    schema: JsonSchema = {"type": "object", "additionalProperties": {"type": "string"}}
    if max_properties is not None:
        schema["maxProperties"] = max_properties
    return _described(description, schema)


def free_form(description: str) -> JsonSchema:
    """An object whose content Kubernetes keeps as is (JSON Schemas, embedded Kubernetes types)."""
    return _described(description, {"type": "object", "x-kubernetes-preserve-unknown-fields": True})


def free_form_list(description: str) -> JsonSchema:
    """A list of objects Kubernetes keeps as is (tolerations, volumes, env vars)."""
    return _described(
        description,
        {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    )


def any_value(description: str) -> JsonSchema:
    """Any JSON value (a static request body, for instance)."""
    return _described(description, {"x-kubernetes-preserve-unknown-fields": True})
