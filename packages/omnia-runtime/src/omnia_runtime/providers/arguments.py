"""Decoding of tool-call argument text shared by the SDK adapters (no SDK imports here)."""

import json
from typing import Any


def parse_arguments(text: str) -> dict[str, Any]:
    """Decode a tool call's JSON arguments; text that is not a JSON object becomes ``{"_raw": text}`` so the
    conversation loop reports the problem to the model instead of failing the turn."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return {"_raw": text}
    return value if isinstance(value, dict) else {"_raw": text}
