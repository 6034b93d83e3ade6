"""Indexer: objects filed under the values an index function returns, kept current on change and delete."""

import logging
from typing import Any

import pytest

from omnia_operator.controller.indexer import Indexer


def obj(name: str, *refs: str, ns: str = "default") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns}, "refs": list(refs)}


def refs(o: dict[str, Any]) -> list[str]:
    return o["refs"]


@pytest.fixture
def indexer() -> Indexer:
    found = Indexer()
    found.add("refs", refs)
    return found


def test_objects_are_found_under_each_of_their_values(indexer: Indexer) -> None:
    indexer.update(("default", "a"), obj("a", "x", "y"))
    indexer.update(("default", "b"), obj("b", "y"))
    assert indexer.keys("refs", "x") == [("default", "a")]
    assert indexer.keys("refs", "y") == [("default", "a"), ("default", "b")]
    assert indexer.keys("refs", "z") == []


def test_a_changed_object_leaves_its_old_values_and_joins_its_new_ones(indexer: Indexer) -> None:
    indexer.update(("default", "a"), obj("a", "x", "y"))
    indexer.update(("default", "a"), obj("a", "y", "z"))
    assert indexer.keys("refs", "x") == []
    assert indexer.keys("refs", "y") == [("default", "a")]
    assert indexer.keys("refs", "z") == [("default", "a")]


def test_a_removed_object_is_found_under_nothing(indexer: Indexer) -> None:
    indexer.update(("default", "a"), obj("a", "x"))
    indexer.update(("default", "b"), obj("b", "x"))
    indexer.remove(("default", "a"))
    indexer.remove(("default", "never-added"))
    assert indexer.keys("refs", "x") == [("default", "b")]


def test_an_index_added_late_files_the_objects_already_cached() -> None:
    indexer = Indexer()
    cached = {("default", "a"): obj("a", "x")}
    indexer.add("refs", refs, cached)
    assert indexer.keys("refs", "x") == [("default", "a")]


def test_an_index_function_that_raises_files_the_object_nowhere_and_logs(
    indexer: Indexer, caplog: pytest.LogCaptureFixture
) -> None:
    indexer.update(("default", "a"), obj("a", "x"))
    with caplog.at_level(logging.ERROR, logger="omnia_operator.controller.indexer"):
        indexer.update(("default", "a"), {"metadata": {"name": "a"}})  # no "refs": the function raises KeyError
    assert indexer.keys("refs", "x") == []
    assert "index refs failed" in caplog.text


def test_unknown_and_duplicate_index_names_are_refused_with_a_clear_error(indexer: Indexer) -> None:
    with pytest.raises(LookupError, match="no index named 'nope'"):
        indexer.keys("nope", "x")
    with pytest.raises(ValueError, match="already defined"):
        indexer.add("refs", refs)
