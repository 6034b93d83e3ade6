"""Validators run on the model's final answer: banned_words, max_length, min_length, regex_match, json_schema.

Each returns a list of violations (empty when the answer passes). ``check_output`` runs a prompt's enabled
validators; a violation of one with ``fail_on_violation`` raises ``ValidationFailedError``, the others are
returned so the caller can report them.

Types the runtime does not implement (sentiment, toxicity, pii_detection, custom, anything unknown) cannot
be enforced, and an operator must not believe they are: ``unenforced_validators`` names them so that
``validate-pack`` warns about them and ``serve`` logs them once at start-up, lists them under "warnings" in
``/readyz`` and counts them in ``omnia_runtime_validators_not_enforced``. At turn time they are skipped.
"""

import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema.validators import validator_for

from omnia_runtime.errors import ValidationFailedError
from omnia_runtime.promptpack.models import ValidatorConfig

logger = logging.getLogger(__name__)

_MAX_PATTERN_LENGTH = 2000


@dataclass(frozen=True)
class Violation:
    validator: str
    message: str


def _banned_words(text: str, params: dict[str, Any]) -> list[str]:
    words = params.get("words") or params.get("banned_words") or []
    lowered = text.lower()
    return [f"the answer contains the banned word {w!r}" for w in words if isinstance(w, str) and w.lower() in lowered]


def _max_length(text: str, params: dict[str, Any]) -> list[str]:
    limit = params.get("max_characters", params.get("max_length", params.get("max")))
    if isinstance(limit, int) and len(text) > limit:
        return [f"the answer has {len(text)} characters, more than the maximum of {limit}"]
    return []


def _min_length(text: str, params: dict[str, Any]) -> list[str]:
    limit = params.get("min_characters", params.get("min_length", params.get("min")))
    if isinstance(limit, int) and len(text) < limit:
        return [f"the answer has {len(text)} characters, fewer than the minimum of {limit}"]
    return []


def _regex_match(text: str, params: dict[str, Any]) -> list[str]:
    pattern = params.get("pattern")
    if not isinstance(pattern, str) or len(pattern) > _MAX_PATTERN_LENGTH:
        return ["regex_match needs a 'pattern' string param (at most 2000 characters)"]
    try:
        matched = re.search(pattern, text) is not None
    except re.error as e:
        return [f"regex_match pattern {pattern!r} is invalid: {e}"]
    must_match = params.get("must_match", True)
    if matched != bool(must_match):
        return [f"the answer {'does not match' if must_match else 'matches'} the pattern {pattern!r}"]
    return []


def _json_schema(text: str, params: dict[str, Any]) -> list[str]:
    schema = params.get("schema", {})
    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        return [f"the answer is not JSON: {e.msg} at position {e.pos}"]
    validator_cls = validator_for(schema)
    return [
        f"the answer fails its JSON schema at /{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in validator_cls(schema).iter_errors(document)
    ]


CHECKS: dict[str, Callable[[str, dict[str, Any]], list[str]]] = {
    "banned_words": _banned_words,
    "max_length": _max_length,
    "min_length": _min_length,
    "regex_match": _regex_match,
    "json_schema": _json_schema,
}


Observer = Callable[[ValidatorConfig, str, float], None]
"""Told of each enabled validator's outcome: its config, ``passed``/``failed``/``skipped`` and the seconds it took."""


def check_output(text: str, validators: Sequence[ValidatorConfig], observe: Observer | None = None) -> list[Violation]:
    """Run the enabled validators; raise ``ValidationFailedError`` for a failing ``fail_on_violation`` one."""
    violations: list[Violation] = []
    for config in validators:
        if not config.enabled:
            continue
        check = CHECKS.get(config.type)
        if check is None:
            logger.debug("validator type %s is not implemented by this runtime; skipped", config.type)
            if observe is not None:
                observe(config, "skipped", 0.0)
            continue
        started = time.perf_counter()
        messages = check(text, config.params)
        if observe is not None:
            observe(config, "failed" if messages else "passed", time.perf_counter() - started)
        if messages and config.fail_on_violation:
            raise ValidationFailedError(f"{config.type}: " + "; ".join(messages))
        violations.extend(Violation(config.type, m) for m in messages)
    return violations


def unenforced_validators(validators: Sequence[ValidatorConfig]) -> list[str]:
    """The types of the enabled validators this runtime cannot run (each once, in pack order)."""
    return list(dict.fromkeys(v.type for v in validators if v.enabled and v.type not in CHECKS))
