"""Turn handlers: what answers a user message (the runtime over gRPC, or the built-in echo and demo)."""

from omnia_facade.handlers.base import (
    ClientToolCall,
    TextDelta,
    TurnDone,
    TurnEvent,
    TurnHandler,
    TurnRequest,
    TurnStream,
)

__all__ = ["ClientToolCall", "TextDelta", "TurnDone", "TurnEvent", "TurnHandler", "TurnRequest", "TurnStream"]
