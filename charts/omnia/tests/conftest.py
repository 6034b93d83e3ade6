"""Fixtures of the chart tests; the rendering and validation code is in chart_harness.py."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import chart_harness

# Read at import time: the root conftest clears OMNIA_* variables before every test.
UPDATE_SNAPSHOTS = os.environ.get("OMNIA_UPDATE_SNAPSHOTS") == "1"


@pytest.fixture(scope="session")
def update_snapshots() -> bool:
    return UPDATE_SNAPSHOTS


@pytest.fixture(scope="session")
def crds() -> dict[tuple[str, str], dict]:
    found = chart_harness.load_crds()
    if not found:
        pytest.skip(f"no CRDs in {chart_harness.CRD_DIR} yet: the operator generates them")
    return found
