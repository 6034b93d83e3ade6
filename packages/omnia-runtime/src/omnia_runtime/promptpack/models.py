"""Typed view of a PromptPack (spec v1.3). Structure is checked by ``schema.py`` first; these models give the
runtime typed access and keep unknown-but-allowed keys (``extra="allow"``) so nothing in the pack is lost."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _PackModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class TemplateEngine(_PackModel):
    version: str
    syntax: str
    features: list[str] = Field(default_factory=list)


class Variable(_PackModel):
    name: str
    type: Literal["string", "number", "boolean", "object", "array"] = "string"
    required: bool = False
    default: Any = None
    description: str = ""


class ToolPolicy(_PackModel):
    tool_choice: Literal["auto", "required", "none"] = "auto"
    max_rounds: int = 5
    max_tool_calls_per_turn: int = 10
    blocklist: list[str] = Field(default_factory=list)


class Parameters(_PackModel):
    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    top_k: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None


class ValidatorConfig(_PackModel):
    type: str
    enabled: bool = True
    fail_on_violation: bool = False
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("params", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value


class ModelOverride(_PackModel):
    system_template_prefix: str = ""
    system_template_suffix: str = ""
    system_template: str | None = None
    parameters: Parameters | None = None


class Prompt(_PackModel):
    id: str
    name: str
    version: str
    system_template: str
    description: str = ""
    variables: list[Variable] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)
    tool_policy: ToolPolicy = Field(default_factory=ToolPolicy)
    parameters: Parameters = Field(default_factory=Parameters)
    validators: list[ValidatorConfig] = Field(default_factory=list)
    model_overrides: dict[str, ModelOverride] = Field(default_factory=dict)


class PackTool(_PackModel):
    name: str
    description: str
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class Workflow(_PackModel):
    version: int = 1
    entry: str = ""
    states: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Agents(_PackModel):
    entry: str = ""
    members: dict[str, dict[str, Any]] = Field(default_factory=dict)


class PromptPack(_PackModel):
    """A loaded, validated PromptPack."""

    id: str
    name: str
    version: str
    template_engine: TemplateEngine
    prompts: dict[str, Prompt]
    description: str = ""
    fragments: dict[str, str] = Field(default_factory=dict)
    tools: dict[str, PackTool] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    workflow: Workflow | None = None
    agents: Agents | None = None
