"""`x-kubernetes-validations`: CEL rules evaluated with the `common-expression-language` package.

As in the API server: `self` is the value at the schema node; a rule that mentions `oldSelf` is a transition
rule, evaluated only on updates where an old value exists (unless `optionalOldSelf`); a false result reports
`message` (or `messageExpression`, or "failed rule: <rule>") at the node's path, or at `fieldPath` below it,
with `reason` (FieldValueInvalid by default). Root-level rules report the path `<nil>` like the real server.
"""

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import cel

MISSING: Any = object()
"""Marks "no old value" (create, or a field that did not exist before)."""

_REASON_PREFIX = {
    "FieldValueInvalid": None,
    "FieldValueForbidden": "Forbidden",
    "FieldValueRequired": "Required value",
    "FieldValueDuplicate": "Duplicate value",
}


@lru_cache(maxsize=1024)
def _compile(rule: str) -> tuple[Any, bool]:
    program = cel.compile(rule)
    return program, "oldSelf" in program.variables()


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def check_rules(
    schema: dict[str, Any],
    value: Any,
    old: Any,
    path: str,
    report: Callable[[Any], None],
    cause: Callable[[str, str, str], Any],
) -> None:
    for rule in schema.get("x-kubernetes-validations") or []:
        expression = rule.get("rule", "")
        field = path + (rule.get("fieldPath") or "") if path else (rule.get("fieldPath") or "").lstrip(".")
        shown_field = field or "<nil>"
        try:
            program, transition = _compile(expression)
        except ValueError as e:
            report(cause(shown_field, "FieldValueInvalid", f"Invalid value: {expression!r}: compilation failed: {e}"))
            continue
        if transition and old is MISSING and not rule.get("optionalOldSelf"):
            continue
        context: dict[str, Any] = {"self": value}
        if transition:
            context["oldSelf"] = None if old is MISSING else old
        try:
            result = program.execute(context)
        except Exception as e:  # the library raises plain TypeError/ValueError/RuntimeError for runtime errors
            report(cause(shown_field, "FieldValueInvalid", f"Invalid value: {expression!r}: evaluation error: {e}"))
            continue
        if result is True:
            continue
        message = rule.get("message") or f"failed rule: {expression}"
        if rule.get("messageExpression"):
            try:
                evaluated = cel.evaluate(rule["messageExpression"], context)
                if isinstance(evaluated, str) and evaluated.strip():
                    message = evaluated
            except Exception:  # a broken messageExpression falls back to `message`, as in the API server
                pass
        reason = rule.get("reason") or "FieldValueInvalid"
        prefix = _REASON_PREFIX.get(reason)
        text = f'Invalid value: "{_type_name(value)}": {message}' if prefix is None else f"{prefix}: {message}"
        report(cause(shown_field, reason, text))
