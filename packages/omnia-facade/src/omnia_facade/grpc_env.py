"""gRPC core settings for the facade's runtime client, applied before ``grpc`` is imported.

The facade talks to one runtime, a loopback neighbour in the same pod, with small messages where every
millisecond before the first chunk counts. gRPC's EventEngine client and listener (on by default in current
grpcio) cost the facade's side of that hop 0.2-0.3 ms per turn compared with gRPC's older poller
(``bench/bench_streaming.py``), so ``omnia-facade serve`` turns them off through gRPC's own ``GRPC_EXPERIMENTS``
variable unless it is already set. Set ``GRPC_EXPERIMENTS`` yourself (empty means gRPC's defaults) to choose
otherwise; a grpcio that no longer knows these experiments logs one "Unknown experiment" line at start-up and
runs as usual. ``omnia-runtime serve`` makes the same choice for its side of the hop (``omnia_runtime.cli``).
"""

import os
from collections.abc import MutableMapping

LOW_LATENCY_EXPERIMENTS = "-event_engine_client,-event_engine_listener"


def prefer_low_latency_grpc(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Set ``GRPC_EXPERIMENTS`` to ``LOW_LATENCY_EXPERIMENTS`` unless it is set; True when it was set here.

    Call it before anything imports ``grpc``: gRPC core reads the variable once, when it starts.
    """
    if "GRPC_EXPERIMENTS" in environ:
        return False
    environ["GRPC_EXPERIMENTS"] = LOW_LATENCY_EXPERIMENTS
    return True
