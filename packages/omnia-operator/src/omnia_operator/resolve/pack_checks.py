"""The checks `omnia-runtime validate-pack` runs, split into what blocks a pack and what only warns.

The operator imports the runtime's own functions (omnia-runtime is a declared dependency; there is no
fallback copy), so a PromptPack's status and `validate-pack` can never disagree:

- `validate_pack_data` finds structural problems (schema, broken references): the runtime cannot serve such a
  pack, so the PromptPack goes Failed.
- `lint_pack_data` finds authoring problems (a prompt listing a tool the pack does not define, a template
  placeholder that is not a declared variable) and `validator_warnings` lists validators the runtime cannot
  enforce. Upstream serves such packs: a prompt's tools are extended with the ToolRegistry's tool names and
  variables are filled at run time, and several expected-valid conformance packs trip the lint. These are
  warnings: the pack stays usable and the warnings are shown on the PromptPack (condition and Event).
"""

from dataclasses import dataclass
from typing import Any

from omnia_runtime.promptpack import lint_pack_data, validate_pack_data, validator_warnings

MAX_LISTED = 5
"""How many findings an Event message spells out (the rest are counted)."""
MESSAGE_LISTED = 20
"""How many findings a condition message spells out."""


@dataclass(frozen=True)
class PackFindings:
    problems: tuple[str, ...]
    """Structural problems: the pack cannot be served."""
    warnings: tuple[str, ...]
    """Authoring warnings: the pack is served as it is."""


def check_pack_data(data: Any) -> PackFindings:
    """Everything `omnia-runtime validate-pack` reports for a parsed pack.json, sorted by severity."""
    problems = validate_pack_data(data)
    warnings = [p for p in lint_pack_data(data) if p not in problems]
    warnings += [w for w in validator_warnings(data) if w not in warnings]
    return PackFindings(tuple(problems), tuple(warnings))


def summarize(findings: tuple[str, ...], limit: int = MAX_LISTED) -> str:
    """The first `limit` findings joined by '; ', with a count of the ones left out."""
    shown = "; ".join(findings[:limit])
    hidden = len(findings) - limit
    return shown + (f" (+{hidden} more)" if hidden > 0 else "")
