"""Structural rules of a PromptPack (spec v1.3), as a JSON Schema written for this runtime.

The shapes follow the PromptPack spec v1.3.1 that the Go Omnia embeds (see upstream-omnia.md §10): the same
required keys, enums, identifier patterns and closed objects (the top level, prompts, variables, workflow
states and agent cards reject unknown keys), so a pack accepted or refused there is accepted or refused here.
One quirk of that schema is kept on purpose: it applies its media-type pattern to *every* lower-case key of a
prompt's ``media`` block, ``enabled`` included, so no ``media`` block passes v1.3.1; packs using media need the
newer spec, and we refuse them the same way rather than accept something the Go operator rejects.
"""

from typing import Any

_IDENT = "^[a-zA-Z_][a-zA-Z0-9_]*$"
_SEMVER = r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"

VALIDATOR_TYPES = [
    "banned_words",
    "max_length",
    "min_length",
    "regex_match",
    "json_schema",
    "sentiment",
    "toxicity",
    "pii_detection",
    "custom",
]

_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "max_tokens": {"type": "integer", "minimum": 1},
        "top_p": {"type": "number", "minimum": 0, "maximum": 1},
        "top_k": {"type": "integer", "minimum": 1},
        "frequency_penalty": {"type": "number", "minimum": -2, "maximum": 2},
        "presence_penalty": {"type": "number", "minimum": -2, "maximum": 2},
    },
}

_VARIABLE: dict[str, Any] = {
    "type": "object",
    "required": ["name", "type", "required"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": _IDENT},
        "type": {"enum": ["string", "number", "boolean", "object", "array"]},
        "required": {"type": "boolean"},
        "default": {},
        "description": {"type": "string"},
        "example": {},
        "validation": {"type": "object"},
    },
}

_VALIDATOR: dict[str, Any] = {
    "type": "object",
    "required": ["type", "enabled"],
    "properties": {
        "type": {"enum": VALIDATOR_TYPES},
        "enabled": {"type": "boolean"},
        "fail_on_violation": {"type": "boolean"},
        "params": {"type": "object"},
    },
}

_MEDIA_TYPE_CONFIG: dict[str, Any] = {"type": "object"}

_MEDIA: dict[str, Any] = {
    "type": "object",
    "required": ["enabled"],
    "properties": {
        "enabled": {"type": "boolean"},
        "supported_types": {"type": "array", "items": {"type": "string", "pattern": "^[a-z0-9_]+$"}},
        "image": _MEDIA_TYPE_CONFIG,
        "audio": _MEDIA_TYPE_CONFIG,
        "video": _MEDIA_TYPE_CONFIG,
        "document": _MEDIA_TYPE_CONFIG,
        "examples": {"type": "array"},
    },
    # v1.3.1 quirk (see the module docstring): every lower-case key must also be exactly one media-type config,
    # and the well-known configs overlap, so nothing satisfies "exactly one".
    "patternProperties": {"^[a-z0-9_]+$": {"oneOf": [{"type": "object"}, {"type": "object"}]}},
    "additionalProperties": False,
}

_PROMPT: dict[str, Any] = {
    "type": "object",
    "required": ["id", "name", "version", "system_template"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z][a-z0-9_-]*$"},
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "version": {"type": "string", "pattern": _SEMVER},
        "system_template": {"type": "string"},
        "variables": {"type": "array", "items": _VARIABLE},
        "tools": {"type": "array", "items": {"type": "string"}},
        "tool_policy": {
            "type": "object",
            "properties": {
                "tool_choice": {"enum": ["auto", "required", "none"]},
                "max_rounds": {"type": "integer", "minimum": 1},
                "max_tool_calls_per_turn": {"type": "integer", "minimum": 1},
                "blocklist": {"type": "array", "items": {"type": "string"}},
            },
        },
        "pipeline": {
            "type": "object",
            "required": ["stages"],
            "properties": {"stages": {"type": "array"}, "middleware": {"type": "array"}},
        },
        "parameters": _PARAMETERS,
        "validators": {"type": "array", "items": _VALIDATOR},
        "evals": {"type": "array"},
        "tested_models": {
            "type": "array",
            "items": {"type": "object", "required": ["provider", "model", "date"]},
        },
        "model_overrides": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "system_template_prefix": {"type": "string"},
                    "system_template_suffix": {"type": "string"},
                    "system_template": {"type": "string"},
                    "parameters": _PARAMETERS,
                },
            },
        },
        "media": _MEDIA,
    },
}

_WORKFLOW_STATE: dict[str, Any] = {
    "type": "object",
    "required": ["prompt_task", "on_event"],
    "additionalProperties": False,
    "properties": {
        "prompt_task": {"type": "string"},
        "description": {"type": "string"},
        "on_event": {"type": "object", "additionalProperties": {"type": "string"}},
        "persistence": {"enum": ["transient", "persistent"]},
        "orchestration": {"enum": ["internal", "external", "hybrid"]},
        "skills": {},
    },
}

PACK_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "name", "version", "template_engine", "prompts"],
    "additionalProperties": False,
    "properties": {
        "$schema": {"type": "string"},
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "version": {"type": "string", "pattern": _SEMVER},
        "template_engine": {
            "type": "object",
            "required": ["version", "syntax"],
            "properties": {
                "version": {"type": "string"},
                "syntax": {"type": "string"},
                "features": {"type": "array", "items": {"type": "string"}},
            },
        },
        "prompts": {"type": "object", "minProperties": 1, "additionalProperties": _PROMPT},
        "fragments": {"type": "object", "additionalProperties": {"type": "string"}},
        "tools": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["name", "description"],
                "properties": {
                    "name": {"type": "string", "pattern": _IDENT},
                    "description": {"type": "string"},
                    "parameters": {"type": "object"},
                },
            },
        },
        "metadata": {
            "type": "object",
            "properties": {
                "domain": {"type": "string"},
                "language": {"type": "string", "pattern": "^[a-z]{2}$"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "cost_estimate": {"type": "object"},
            },
        },
        "compilation": {
            "type": "object",
            "required": ["compiled_with", "created_at", "schema"],
        },
        "evals": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "type", "trigger"],
                "properties": {
                    "trigger": {"enum": ["every_turn", "on_session_complete", "sample_turns", "sample_sessions"]},
                    "sample_percentage": {"type": "number", "minimum": 0, "maximum": 100},
                    "enabled": {"type": "boolean"},
                },
            },
        },
        "workflow": {
            "type": "object",
            "required": ["version", "entry", "states"],
            "properties": {
                "version": {"type": "integer", "minimum": 1},
                "entry": {"type": "string"},
                "states": {"type": "object", "additionalProperties": _WORKFLOW_STATE},
                "engine": {"type": "object"},
            },
        },
        "agents": {
            "type": "object",
            "properties": {
                "entry": {"type": "string"},
                "members": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "description": {"type": "string"},
                            "tags": {"type": "array", "items": {"type": "string"}},
                            "input_modes": {"type": "array", "items": {"type": "string"}},
                            "output_modes": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },
            },
        },
        "skills": {"type": "array"},
    },
}
