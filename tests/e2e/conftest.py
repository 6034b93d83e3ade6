"""e2e set-up: make the scenario modules (e2e_cluster, e2e_scenarios) importable in importlib mode.

The root conftest marks only the cluster runners (`test_*_cluster.py`) with `e2e`; test_scenarios_fake.py runs the
very same scenarios against the FakeKubeAPI in every CI run.
"""

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
