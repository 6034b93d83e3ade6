"""Conditions keep their transition time while their status holds."""

from omnia_operator.api.models.base import Condition
from omnia_operator.reconcile.conditions import MAX_MESSAGE, changed_conditions, make_condition

EARLIER = "2020-01-01T00:00:00Z"
OLD = Condition(
    type="Ready", status="False", reason="Missing", message="old", last_transition_time=EARLIER, observed_generation=1
)


def test_condition_keeps_its_transition_time_when_only_reason_and_message_change() -> None:
    new = make_condition([OLD], "Ready", False, "StillMissing", "new message", 2)
    assert new.last_transition_time == EARLIER
    assert (new.reason, new.message, new.observed_generation) == ("StillMissing", "new message", 2)


def test_condition_gets_a_new_transition_time_when_its_status_flips() -> None:
    new = make_condition([OLD], "Ready", True, "Ready", "fine", 2)
    assert new.status == "True"
    assert new.last_transition_time not in ("", EARLIER)


def test_condition_of_another_type_does_not_lend_its_transition_time() -> None:
    new = make_condition([OLD], "ServiceReady", False, "Missing", "old", 1)
    assert new.last_transition_time not in ("", EARLIER)


def test_condition_message_is_bounded() -> None:
    assert len(make_condition([], "Ready", False, "Big", "x" * (MAX_MESSAGE + 10), 1).message) == MAX_MESSAGE


def test_changed_conditions_are_those_whose_status_or_reason_moved() -> None:
    same = make_condition([OLD], "Ready", False, "Missing", "reworded", 2)
    new_reason = make_condition([OLD], "Ready", False, "Other", "old", 2)
    flipped = make_condition([OLD], "Ready", True, "Missing", "old", 2)
    added = make_condition([OLD], "ServiceReady", True, "Applied", "ok", 2)
    assert changed_conditions([OLD], [same]) == []
    assert changed_conditions([OLD], [new_reason]) == [new_reason]
    assert changed_conditions([OLD], [flipped, added]) == [flipped, added]
