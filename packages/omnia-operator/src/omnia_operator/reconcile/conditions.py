"""Building status conditions so that an unchanged verdict keeps its lastTransitionTime (no needless writes)."""

from datetime import UTC, datetime
from typing import Any

from omnia_operator.resolve.outcome import Check


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(
    existing: list[dict[str, Any]], type_: str, ok: bool, reason: str, message: str, generation: int
) -> dict[str, Any]:
    """A condition; lastTransitionTime is carried over when its status did not change."""
    status = "True" if ok else "False"
    previous = next((c for c in existing if c.get("type") == type_), None)
    changed_at = previous.get("lastTransitionTime") if previous and previous.get("status") == status else None
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message[:32000],
        "lastTransitionTime": changed_at or now(),
        "observedGeneration": generation,
    }


def from_check(existing: list[dict[str, Any]], type_: str, check: Check, generation: int) -> dict[str, Any]:
    return condition(existing, type_, check.ok, check.reason, check.message, generation)


def transitions(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Conditions whose status or reason differ from before (what deserves an Event)."""
    before = {c.get("type"): (c.get("status"), c.get("reason")) for c in old}
    return [c for c in new if before.get(c["type"]) != (c["status"], c["reason"])]
