"""Run ids are matched literally: an id, or for people the start of one; never a SQL pattern (issue #19)."""

from __future__ import annotations

import time

import pytest
from workcrew.engine import RunStore
from workcrew.engine.store.run_ids import AmbiguousRunId


def _runs(store: RunStore, *ids: str) -> None:
    for offset, run_id in enumerate(ids):
        store.create_run(id=run_id, workflow="review", status="succeeded", created_at=time.time() + offset)
    store.flush()


def test_pattern_characters_match_nothing(store: RunStore) -> None:
    _runs(store, "wf_3f2a9c81b0d4")
    for typed in ("%", "_", "wf%", "wf_%", "%0d4", "wf_3f2a9c81b0d_", "*", "wf_*", "[w]f_3f2a9c81b0d4"):
        assert store.get_run(typed) is None, typed
        assert store.get_run(typed, prefix=False) is None, typed


def test_a_unique_literal_prefix_finds_the_run_and_exact_lookups_need_the_whole_id(store: RunStore) -> None:
    _runs(store, "wf_3f2a9c81b0d4", "wf_77aa00000000")
    assert store.get_run("wf_3f2")["id"] == "wf_3f2a9c81b0d4"
    assert store.get_run("wf_3f2", prefix=False) is None
    assert store.get_run("wf_3f2a9c81b0d4", prefix=False)["id"] == "wf_3f2a9c81b0d4"
    # an underscore in the prefix is an underscore, not "any character"
    _runs(store, "wfx3f2000000000")
    assert store.get_run("wf_3f2")["id"] == "wf_3f2a9c81b0d4"


def test_an_ambiguous_prefix_is_refused_with_the_candidates(store: RunStore) -> None:
    _runs(store, "wf_aa0000000001", "wf_aa0000000002", "wf_bb0000000000")
    with pytest.raises(AmbiguousRunId) as caught:
        store.get_run("wf_aa")
    assert "wf_aa0000000001" in str(caught.value) and "wf_aa0000000002" in str(caught.value)
    assert "give more of the id" in str(caught.value)
    assert store.get_run("wf_aa0000000002")["id"] == "wf_aa0000000002"  # a whole id is never ambiguous


def test_ids_no_store_takes_are_simply_not_found(store: RunStore) -> None:
    _runs(store, "wf_3f2a9c81b0d4")
    for typed in ("\ud800", "wf\x00", "w" * 2_000_000, ""):
        assert store.get_run(typed) is None
