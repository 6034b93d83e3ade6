"""Loading and checking PromptPacks.

Two levels of checking:

- ``validate_pack_data`` — the pack's structure against the spec v1.3 rules (``schema.py``) plus references
  that cannot work at run time (an explicit ``{{fragment:x}}`` to a fragment the pack lacks, a ``workflow.entry``
  or ``agents.entry`` that names nothing). An empty list means the runtime can serve the pack; the operator uses
  the same function for PromptPack status.
- ``lint_pack_data`` — authoring problems that upstream tolerates: a prompt listing a tool the pack does not
  define (it may come from a ToolRegistry at run time) and template placeholders that are neither a declared
  variable nor a fragment. ``omnia-runtime validate-pack`` reports both levels; ``serve`` serves such a pack
  and shows these findings as warnings (log and ``/readyz``), leaving out tools the ToolRegistry offers.
- ``validator_warnings`` — validators the runtime cannot enforce (types other than those of
  ``output_validators.CHECKS``). Valid by the spec, so a warning, never a problem: the pack still serves.

Every problem is one line, ``<JSON path>: <what is wrong>``.
"""

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from pydantic import ValidationError

from omnia_runtime.errors import PackError
from omnia_runtime.promptpack.models import Prompt, PromptPack
from omnia_runtime.promptpack.output_validators import CHECKS
from omnia_runtime.promptpack.schema import PACK_SCHEMA
from omnia_runtime.promptpack.template import fragment_name, placeholders

MAX_PACK_BYTES = 8 * 1024 * 1024
_VALIDATOR = Draft202012Validator(PACK_SCHEMA)


def _pointer(parts: Any) -> str:
    return "/" + "/".join(str(p) for p in parts)


def validate_pack_data(data: Any) -> list[str]:
    """Every problem that stops the runtime from serving this pack; empty when it is valid."""
    problems = [
        f"{_pointer(error.absolute_path)}: {error.message}"
        for error in sorted(_VALIDATOR.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    ]
    if problems or not isinstance(data, dict):
        return problems
    fragments = data.get("fragments") or {}
    prompts: dict[str, Any] = data["prompts"]
    for key, prompt in prompts.items():
        templates = {"system_template": prompt["system_template"]}
        for model, override in (prompt.get("model_overrides") or {}).items():
            for field in ("system_template", "system_template_prefix", "system_template_suffix"):
                if isinstance(override.get(field), str):
                    templates[f"model_overrides/{model}/{field}"] = override[field]
        for where, template in templates.items():
            for name in placeholders(template):
                fragment = fragment_name(name)
                if fragment is not None and fragment not in fragments:
                    problems.append(f"/prompts/{key}/{where}: uses fragment {fragment!r}, which /fragments lacks")
    workflow = data.get("workflow")
    if isinstance(workflow, dict):
        states = workflow.get("states") or {}
        if workflow.get("entry") not in states:
            problems.append(f"/workflow/entry: {workflow.get('entry')!r} is not one of the workflow states")
        for state_name, state in states.items():
            if state.get("prompt_task") not in prompts:
                problems.append(
                    f"/workflow/states/{state_name}/prompt_task: {state.get('prompt_task')!r} is not a key of /prompts"
                )
    agents = data.get("agents")
    if isinstance(agents, dict) and agents.get("entry") and agents["entry"] not in prompts:
        problems.append(f"/agents/entry: {agents['entry']!r} is not a key of /prompts")
    return problems


def lint_pack_data(data: Any, *, known_tools: Collection[str] | None = None) -> list[str]:
    """Authoring problems: undefined tools, undeclared template variables.

    ``known_tools``, when given, are the tools the ToolRegistry (``tools.yaml``) offers at serve time: a prompt
    listing one of them is not a problem. Tolerates a pack that also has structural problems (it skips what it cannot
    read), so that ``validate-pack`` can list every problem at once.
    """
    if not isinstance(data, dict):
        return []
    problems: list[str] = []
    tools = set(_mapping(data.get("tools")).keys()) | set(known_tools or ())
    nowhere = "in /tools" if known_tools is None else "in /tools nor offered by the ToolRegistry"
    members = set(_mapping(_mapping(data.get("agents")).get("members")).keys())
    fragments = set(_mapping(data.get("fragments")).keys())
    for key, prompt in _mapping(data.get("prompts")).items():
        if not isinstance(prompt, dict):
            continue
        listed = prompt.get("tools")
        for index, tool in enumerate(listed if isinstance(listed, list) else []):
            if isinstance(tool, str) and tool not in tools and tool not in members:
                problems.append(f"/prompts/{key}/tools/{index}: tool {tool!r} is not defined {nowhere}")
        variables = prompt.get("variables")
        declared = {
            v["name"] for v in (variables if isinstance(variables, list) else []) if isinstance(v, dict) and "name" in v
        }
        template = prompt.get("system_template")
        problems.extend(
            f"/prompts/{key}/system_template: variable {name!r} is not declared in /prompts/{key}/variables"
            for name in dict.fromkeys(placeholders(template if isinstance(template, str) else ""))
            if fragment_name(name) is None and name not in declared and name not in fragments
        )
    return problems


def validator_warnings(data: Any) -> list[str]:
    """One line per enabled validator whose type this runtime does not implement (tolerates malformed packs)."""
    warnings: list[str] = []
    for key, prompt in _mapping(_mapping(data).get("prompts")).items():
        validators = _mapping(prompt).get("validators")
        for index, validator in enumerate(validators if isinstance(validators, list) else []):
            if not isinstance(validator, dict) or validator.get("enabled") is False:
                continue
            kind = validator.get("type")
            if isinstance(kind, str) and kind not in CHECKS:
                warnings.append(
                    f"/prompts/{key}/validators/{index}: validator type {kind!r} is not enforced by this runtime"
                    f" (answers pass it unchecked; enforced types: {', '.join(CHECKS)})"
                )
    return warnings


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def read_pack_file(path: Path) -> Any:
    """The JSON document in a pack file; ``PackError`` when it is missing, too large or not JSON."""
    try:
        size = path.stat().st_size
        if size > MAX_PACK_BYTES:
            raise PackError(f"{path} is {size} bytes; a PromptPack may be at most {MAX_PACK_BYTES} bytes")
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise PackError(f"cannot read the PromptPack {path}: {e.strerror}; check OMNIA_PROMPTPACK_PATH") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PackError(f"{path} is not valid JSON: {e}", [f"/: not valid JSON: {e}"]) from e


def parse_pack(data: Any, *, source: str = "pack") -> PromptPack:
    """A typed ``PromptPack`` from JSON data; ``PackError`` listing every problem when it is invalid."""
    problems = validate_pack_data(data)
    if problems:
        raise PackError(f"{source} is not a valid PromptPack ({len(problems)} problem(s))", problems)
    try:
        return PromptPack.model_validate(data)
    except ValidationError as e:
        found = [f"{_pointer(err['loc'])}: {err['msg']}" for err in e.errors()]
        raise PackError(f"{source} is not a valid PromptPack", found) from e


def load_pack(path: str | Path) -> PromptPack:
    """Load and validate the pack at ``path``."""
    path = Path(path)
    return parse_pack(read_pack_file(path), source=str(path))


def resolve_entry_prompt(pack: PromptPack, fallback: str = "default") -> tuple[str, Prompt]:
    """The entry prompt: ``workflow.entry`` (a state, mapped to its prompt), else ``agents.entry``, else the
    only prompt, else ``fallback`` (``OMNIA_PROMPT_NAME``). ``PackError`` when none of them exists."""
    candidates: list[str] = []
    if pack.workflow is not None and pack.workflow.entry:
        state = pack.workflow.states.get(pack.workflow.entry) or {}
        candidates.append(str(state.get("prompt_task") or pack.workflow.entry))
    if pack.agents is not None and pack.agents.entry:
        candidates.append(pack.agents.entry)
    if len(pack.prompts) == 1:
        candidates.append(next(iter(pack.prompts)))
    candidates.append(fallback)
    for name in candidates:
        if name in pack.prompts:
            return name, pack.prompts[name]
    raise PackError(
        f"cannot choose the entry prompt: {fallback!r} is not one of the pack's prompts"
        f" ({', '.join(sorted(pack.prompts))}); set OMNIA_PROMPT_NAME or add workflow.entry"
    )
