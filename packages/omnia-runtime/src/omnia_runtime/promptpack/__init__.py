"""The PromptPack engine: typed models, loading and validation, the template engine and output validators."""

from omnia_runtime.promptpack.loader import (
    lint_pack_data,
    load_pack,
    parse_pack,
    resolve_entry_prompt,
    validate_pack_data,
    validator_warnings,
)
from omnia_runtime.promptpack.models import PackTool, Prompt, PromptPack, ValidatorConfig, Variable
from omnia_runtime.promptpack.output_validators import Violation, check_output, unenforced_validators
from omnia_runtime.promptpack.template import render

__all__ = [
    "PackTool",
    "Prompt",
    "PromptPack",
    "ValidatorConfig",
    "Variable",
    "Violation",
    "check_output",
    "lint_pack_data",
    "load_pack",
    "parse_pack",
    "render",
    "resolve_entry_prompt",
    "unenforced_validators",
    "validate_pack_data",
    "validator_warnings",
]
