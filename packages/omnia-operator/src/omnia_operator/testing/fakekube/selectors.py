"""Label and field selectors, with the grammar of `kubectl get -l` (`a=b,c!=d,e in (f,g),!h,i`)."""

import re
from collections.abc import Callable, Mapping
from typing import Any

from omnia_operator.testing.fakekube.status import bad_request

Requirement = Callable[[Mapping[str, str]], bool]
_SET = re.compile(r"^\s*([^\s!=,()]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQUALITY = re.compile(r"^\s*([^\s!=,()]+)\s*(==|=|!=)\s*([^\s!=,()]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([^\s!=,()]+)\s*$")


def _split(selector: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current = ""
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current)
    return parts


def _requirement(term: str) -> Requirement:
    if match := _SET.match(term):
        key, op, values = match.group(1), match.group(2), {v.strip() for v in match.group(3).split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if match := _EQUALITY.match(term):
        key, op, value = match.groups()
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if match := _EXISTS.match(term):
        negate, key = match.groups()
        if negate:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise bad_request(f"unable to parse requirement: {term.strip()!r}")


def parse_label_selector(selector: str | None) -> Requirement:
    if not selector:
        return lambda _labels: True
    if len(selector) > 4096:
        raise bad_request("label selector is longer than 4096 characters")
    requirements = [_requirement(term) for term in _split(selector)]
    return lambda labels: all(requirement(labels) for requirement in requirements)


def parse_field_selector(selector: str | None) -> Callable[[dict[str, Any]], bool]:
    """Field selectors on `metadata.name` and `metadata.namespace`, the ones every kind supports."""
    if not selector:
        return lambda _obj: True
    checks: list[tuple[str, str, bool]] = []
    for term in selector.split(","):
        match = _EQUALITY.match(term)
        if not match or match.group(1) not in ("metadata.name", "metadata.namespace"):
            raise bad_request(
                f'"{term.strip()}" is not a known field selector: only "metadata.name", "metadata.namespace"'
            )
        checks.append((match.group(1).split(".")[1], match.group(3), match.group(2) != "!="))

    def matches(obj: dict[str, Any]) -> bool:
        metadata = obj.get("metadata") or {}
        return all((metadata.get(field, "") == value) == equal for field, value, equal in checks)

    return matches
