"""Properties of `reextract` over any fetch history: rebuilding equals recording from scratch with the
new settings, a second rebuild changes nothing, and changes whose text pair survives keep their ids."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from monitor.config.settings import LoadedConfig
from monitor.store.db import open_db
from monitor.store.reextract import match_versions, reextract
from monitor.store.standing import SourceStatus
from tests.support.reextract import history, loaded_config, page, record_all


def _alternating(loaded: LoadedConfig) -> str | None:
    engine = open_db(loaded.database_url)
    with Session(engine) as session:
        row = session.get(SourceStatus, "n")
        alternating = row.alternating_json if row else None
    engine.dispose()
    return alternating


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 1)), min_size=1, max_size=7),
       st.sampled_from(['["ul"]', '["h2"]', "[]"]))
@example([(0, 0, 0), (1, 0, 0), (0, 0, 0), (1, 0, 0), (0, 0, 0), (2, 0, 0), (1, 0, 0)], "[]")  # alternates, then ends
@example([(0, 0, 0), (0, 1, 0), (0, 0, 0), (0, 1, 0)], '["ul"]')  # alternates only in what the new rules remove
def test_reextract_equals_recording_from_scratch(variants, new_remove):
    # Histories that return to earlier texts included: recording recognises a page alternating between two
    # texts (A, B, A, B is not re-reported) and reextract replays that rule.
    bodies = [page(*v) for v in variants]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        before = loaded_config(directory, "sqlite:///rebuilt.db", "[]")
        record_all(before, bodies)
        old_versions, old_changes, fetches = history(before)

        after = loaded_config(directory, "sqlite:///rebuilt.db", new_remove)
        engine = open_db(after.database_url)
        [report] = reextract(engine, after)
        engine.dispose()
        versions, changes, fetches_after = history(after)
        assert fetches_after == fetches and report.error is None

        fresh = loaded_config(directory, "sqlite:///fresh.db", new_remove)
        record_all(fresh, bodies)
        fresh_versions, fresh_changes, _ = history(fresh)
        # The same history as recording every fetch again with the new settings (ids aside).
        assert [v[1:] for v in versions] == [v[1:] for v in fresh_versions]
        assert [c[:4] + c[5:] for c in changes] == [c[:4] + c[5:] for c in fresh_changes]
        assert report.versions_after == [v[2] for v in versions]
        assert _alternating(after) == _alternating(fresh)  # what the notice page shows as alternating
        # A change whose (old text, new text) pair survived kept its id.
        old_ids = {c[2:4]: c[4] for c in old_changes}
        for change in changes:
            if change[2:4] in old_ids and sum(c[2:4] == change[2:4] for c in old_changes) == 1:
                assert change[4] == old_ids[change[2:4]]
        # Versions whose text stood at the same number before kept their row.
        old_at = {v[1]: v for v in old_versions}
        assert all(v[0] == old_at[v[1]][0] for v in versions if v[1] in old_at and old_at[v[1]][2] == v[2])

        engine = open_db(after.database_url)
        [again] = reextract(engine, after)
        engine.dispose()
        assert not again.differs and history(after)[:2] == (versions, changes)


@given(st.lists(st.sampled_from("ABCD"), max_size=12), st.lists(st.sampled_from("ABCD"), max_size=12))
def test_version_matching_keeps_order_and_same_numbers(before, after):
    pairs = match_versions(before, after)
    assert all(before[i] == after[j] for i, j in pairs)
    assert all(a[0] < b[0] and a[1] < b[1] for a, b in zip(pairs, pairs[1:], strict=False))
    same = {(k, k) for k in range(min(len(before), len(after))) if before[k] == after[k]}
    assert same <= set(pairs)
    if before == after:
        assert pairs == [(k, k) for k in range(len(before))]
