"""The PromptPack template engine: ``{{variable}}`` and ``{{fragment:name}}`` substitution, nothing more.

No expressions, filters or code run: a placeholder is a name, looked up in the values, then the declared
defaults, then (for a bare name) the pack's fragments. ``{{fragment:name}}`` and ``{{fragments.name}}`` name a
fragment explicitly; fragments may contain placeholders themselves (expanded up to a fixed depth, so a fragment
that includes itself fails instead of looping). A required variable without a value is a ``TemplateError``;
an optional one without a value or default renders as an empty string.
"""

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from omnia_runtime.errors import TemplateError
from omnia_runtime.promptpack.models import Variable

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.:-]*)\s*\}\}")
_MAX_FRAGMENT_DEPTH = 8


def fragment_name(placeholder: str) -> str | None:
    """The fragment a placeholder names explicitly (``fragment:x`` or ``fragments.x``), else ``None``."""
    for prefix in ("fragment:", "fragments."):
        if placeholder.startswith(prefix):
            return placeholder[len(prefix) :]
    return None


def placeholders(template: str) -> list[str]:
    """Every placeholder name in a template, in order of appearance."""
    return PLACEHOLDER.findall(template)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def render(
    template: str,
    values: Mapping[str, Any],
    *,
    variables: Sequence[Variable] = (),
    fragments: Mapping[str, str] | None = None,
) -> str:
    """Render a template. Raises ``TemplateError`` naming every required variable that has no value."""
    fragments = fragments or {}
    declared = {v.name: v for v in variables}
    missing = [v.name for v in variables if v.required and values.get(v.name) in (None, "") and v.default in (None, "")]
    if missing:
        raise TemplateError(
            "missing required template variable(s): " + ", ".join(sorted(missing)) + "; pass them in the turn's"
            " metadata (key 'variables' as a JSON object) or in Invoke's input_json"
        )

    def expand(text: str, depth: int) -> str:
        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            explicit = fragment_name(name)
            if explicit is not None:
                if explicit not in fragments:
                    raise TemplateError(f"the template uses fragment {explicit!r}, which the pack does not define")
                if depth >= _MAX_FRAGMENT_DEPTH:
                    raise TemplateError(f"fragment {explicit!r} nests too deep (does it include itself?)")
                return expand(fragments[explicit], depth + 1)
            if name in values and values[name] is not None:
                return _as_text(values[name])
            variable = declared.get(name)
            if variable is not None and variable.default is not None:
                return _as_text(variable.default)
            if variable is None and name in fragments:
                if depth >= _MAX_FRAGMENT_DEPTH:
                    raise TemplateError(f"fragment {name!r} nests too deep (does it include itself?)")
                return expand(fragments[name], depth + 1)
            return ""

        return PLACEHOLDER.sub(substitute, text)

    return expand(template, 0)
