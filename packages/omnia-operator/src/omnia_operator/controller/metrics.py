"""Prometheus metrics of the operator machinery, named like controller-runtime's so existing dashboards work.

controller-runtime names: `controller_runtime_reconcile_total{controller,result}`,
`controller_runtime_reconcile_errors_total{controller}`, `controller_runtime_reconcile_time_seconds{controller}`,
`workqueue_depth{name}`, `workqueue_adds_total{name}`, `workqueue_retries_total{name}`, and client-go's
`leader_election_master_status{name}`. Ours: `omnia_operator_watch_restarts_total{kind,reason}`.
All live in the default registry, served by the operator's metrics endpoint.
"""

from prometheus_client import Counter, Gauge, Histogram

RECONCILE_TOTAL = Counter(
    "controller_runtime_reconcile_total", "Reconciles per controller and result.", ["controller", "result"]
)
RECONCILE_ERRORS = Counter("controller_runtime_reconcile_errors_total", "Reconciles that raised.", ["controller"])
RECONCILE_TIME = Histogram(
    "controller_runtime_reconcile_time_seconds",
    "Time per reconcile.",
    ["controller"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
WORKQUEUE_DEPTH = Gauge("workqueue_depth", "Keys waiting in the work queue.", ["name"])
WORKQUEUE_ADDS = Counter("workqueue_adds_total", "Keys added to the work queue.", ["name"])
WORKQUEUE_RETRIES = Counter("workqueue_retries_total", "Rate-limited re-adds (retries after failure).", ["name"])
WATCH_RESTARTS = Counter(
    "omnia_operator_watch_restarts_total", "Informer watches restarted, by kind and reason.", ["kind", "reason"]
)
LEADER_STATUS = Gauge("leader_election_master_status", "1 while this instance leads.", ["name"])
