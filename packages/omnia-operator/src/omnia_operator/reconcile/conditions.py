"""Building status conditions so that an unchanged verdict keeps its lastTransitionTime (no needless writes).

The reconcilers build `Condition` models (`make_condition`, `check_condition`) from the conditions of the
status they read; `changed_conditions` picks the ones that deserve an Event.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from omnia_operator.api.models.base import Condition, ConditionStatus
from omnia_operator.resolve.outcome import Check

MAX_MESSAGE = 32000


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _status(ok: bool) -> ConditionStatus:
    return "True" if ok else "False"


def make_condition(
    existing: Sequence[Condition], type_: str, ok: bool, reason: str, message: str, generation: int
) -> Condition:
    """A condition; lastTransitionTime is carried over when its status did not change."""
    status = _status(ok)
    previous = next((c for c in existing if c.type == type_), None)
    changed_at = previous.last_transition_time if previous is not None and previous.status == status else ""
    return Condition(
        type=type_,
        status=status,
        reason=reason,
        message=message[:MAX_MESSAGE],
        last_transition_time=changed_at or now(),
        observed_generation=generation,
    )


def check_condition(existing: Sequence[Condition], type_: str, check: Check, generation: int) -> Condition:
    return make_condition(existing, type_, check.ok, check.reason, check.message, generation)


def changed_conditions(old: Sequence[Condition], new: Sequence[Condition]) -> list[Condition]:
    """Conditions whose status or reason differ from before (what deserves an Event)."""
    before = {c.type: (c.status, c.reason) for c in old}
    return [c for c in new if before.get(c.type) != (c.status, c.reason)]
