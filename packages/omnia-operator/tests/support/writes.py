"""Counting the fake API's mutating requests per object (to prove a reconcile left an object alone)."""

from omnia_operator.testing.fakekube import FakeKubeAPI

MUTATING = {"create", "update", "patch", "delete", "deletecollection"}


def writes_to(api: FakeKubeAPI, resource: str, name: str, *, since: int = 0) -> int:
    """Mutating requests on `resource`/`name` (any subresource) after request number `since`."""
    return sum(
        1
        for record in api.request_log[since:]
        if record.verb in MUTATING and record.resource == resource and record.name == name
    )


def written(api: FakeKubeAPI, resource: str, *, since: int = 0) -> dict[str, int]:
    """Mutating requests per object name of `resource` (any subresource) after request number `since`."""
    counts: dict[str, int] = {}
    for record in api.request_log[since:]:
        if record.verb in MUTATING and record.resource == resource and record.name:
            counts[record.name] = counts.get(record.name, 0) + 1
    return counts
