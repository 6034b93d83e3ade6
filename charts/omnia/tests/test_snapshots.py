"""The rendered chart in every tested configuration, compared with the committed snapshot.

A change to a template shows up as a diff of snapshots/<configuration>.yaml in review. Regenerate them with
`OMNIA_UPDATE_SNAPSHOTS=1 uv run pytest charts/omnia/tests/test_snapshots.py` and read the diff before committing.
"""

import difflib

import chart_harness as ch
import pytest


@pytest.mark.parametrize("config", sorted(ch.CONFIGURATIONS))
def test_rendered_chart_matches_snapshot(config: str, update_snapshots: bool) -> None:
    text = ch.snapshot_text(ch.manifests(ch.render(ch.CONFIGURATIONS[config])))
    path = ch.SNAPSHOT_DIR / f"{config}.yaml"
    if update_snapshots:
        path.write_text(text)
    assert path.exists(), f"no snapshot {path}: run with OMNIA_UPDATE_SNAPSHOTS=1 to create it"
    expected = path.read_text()
    diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), str(path), "rendered"))
    assert text == expected, f"rendered chart differs from the snapshot (OMNIA_UPDATE_SNAPSHOTS=1 to accept):\n{diff}"


def test_no_snapshot_is_left_without_a_configuration() -> None:
    stale = {p.stem for p in ch.SNAPSHOT_DIR.glob("*.yaml")} - set(ch.CONFIGURATIONS)
    assert stale == set()
