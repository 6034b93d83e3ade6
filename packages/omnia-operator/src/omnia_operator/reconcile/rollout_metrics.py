"""Rollout metrics (`omnia_rollout_*`, names of the Go operator), labelled by namespace and PromptPack."""

from prometheus_client import Counter, Gauge

ACTIVE = Gauge("omnia_rollout_active", "1 while a canary of the PromptPack runs.", ["namespace", "promptpack"])
TRAFFIC_WEIGHT = Gauge(
    "omnia_rollout_traffic_weight",
    "Requested canary weight (percent).",
    ["namespace", "promptpack"],
)
STEP_TRANSITIONS = Counter(
    "omnia_rollout_step_transitions_total", "Canary weight changes (start and each step).", ["namespace", "promptpack"]
)
PROMOTIONS = Counter("omnia_rollout_promotions_total", "Canaries promoted to stable.", ["namespace", "promptpack"])
ROLLBACKS = Counter(
    "omnia_rollout_rollbacks_total", "Canaries rolled back automatically.", ["namespace", "promptpack", "reason"]
)


def step(namespace: str, pack: str, weight: int, *, transition: bool = True) -> None:
    ACTIVE.labels(namespace, pack).set(1)
    TRAFFIC_WEIGHT.labels(namespace, pack).set(weight)
    if transition:
        STEP_TRANSITIONS.labels(namespace, pack).inc()


def ended(namespace: str, pack: str) -> None:
    ACTIVE.labels(namespace, pack).set(0)
    TRAFFIC_WEIGHT.labels(namespace, pack).set(0)


def promoted(namespace: str, pack: str) -> None:
    PROMOTIONS.labels(namespace, pack).inc()
    ended(namespace, pack)


def rolled_back(namespace: str, pack: str, reason: str) -> None:
    ROLLBACKS.labels(namespace, pack, reason).inc()
    ended(namespace, pack)
