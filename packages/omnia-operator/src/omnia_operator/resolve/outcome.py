"""The verdict of one resolution step, later written as a status condition."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """ok + a CamelCase reason + a message telling the user what to fix; requeue_after for retries."""

    ok: bool
    reason: str
    message: str
    requeue_after: float | None = None

    @classmethod
    def good(cls, reason: str, message: str) -> "Check":
        return cls(True, reason, message)

    @classmethod
    def bad(cls, reason: str, message: str, *, requeue_after: float | None = 30.0) -> "Check":
        return cls(False, reason, message, requeue_after)
