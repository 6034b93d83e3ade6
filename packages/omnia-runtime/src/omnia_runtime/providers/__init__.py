"""LLM providers behind one small streaming interface (``base.Provider``); SDK adapters load lazily."""

from omnia_runtime.providers.base import (
    ChatRequest,
    Finish,
    GenerationParams,
    Message,
    Provider,
    ProviderEvent,
    TextDelta,
    ToolCallEvent,
    ToolCallRequest,
    Usage,
)
from omnia_runtime.providers.factory import build_provider
from omnia_runtime.providers.mock import MockProvider

__all__ = [
    "ChatRequest",
    "Finish",
    "GenerationParams",
    "Message",
    "MockProvider",
    "Provider",
    "ProviderEvent",
    "TextDelta",
    "ToolCallEvent",
    "ToolCallRequest",
    "Usage",
    "build_provider",
]
