"""`noticewatch reextract`: versions and changes rebuilt from the archive after extraction settings change,
the archive and fetch rows untouched, ids kept where the texts are the same."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
from sqlmodel import Session, select

from monitor.config.settings import load_config
from monitor.store.db import open_db
from monitor.store.models import Change, Fetch, Version
from tests.support import REPO, run_cli

SCHEMA = json.loads((REPO / "docs" / "changes.schema.json").read_text("utf-8"))
ITEM_OLD = "Bedrijfsgegevens (bijvoorbeeld postadres en KvK-nummer)"
ITEM_NEW = "Bedrijfsgegevens (bijvoorbeeld postadres, btw-nummer en KvK-nummer)"
CLAUSE_OLD = "Wij streven ernaar om binnen de grenzen van de wet zorgvuldig"
CLAUSE_NEW = "Wij streven ernaar om binnen de grenzen van de wet niet zorgvuldig"


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _state(config: Path) -> tuple[list[tuple], list[tuple], list[tuple]]:
    engine = open_db(load_config(config).database_url)
    with Session(engine) as session:
        versions = [(v.id, v.number, v.text_sha256, v.fetch_id) for v in
                    session.exec(select(Version).where(Version.source_id == "ismt").order_by(Version.number))]
        changes = [(c.id, c.old_version_id, c.new_version_id, c.diff_json) for c in
                   session.exec(select(Change).order_by(Change.id))]
        fetches = [(f.id, f.outcome, f.blob_sha256, f.error, f.fetched_at) for f in
                   session.exec(select(Fetch).order_by(Fetch.id))]
    engine.dispose()
    return versions, changes, fetches


def _set_remove(config: Path, selectors: str | None) -> None:
    text = config.read_text("utf-8")
    lines = [ln for ln in text.splitlines() if not ln.startswith("remove = ")]
    if selectors:
        at = lines.index('id = "ismt"') + 1
        lines.insert(at, f"remove = {selectors}")
    config.write_text("\n".join(lines) + "\n", "utf-8")


def test_reextract_rebuilds_after_a_remove_selector_and_leaves_the_archive_alone(site, config_path):
    for old, new in ((None, None), (ITEM_OLD, ITEM_NEW), (CLAUSE_OLD, CLAUSE_NEW)):
        if old:
            site.edit("ismt", old, new)
        assert run_cli(config_path, "run", "--source", "ismt").returncode == 0
    snapshots = load_config(config_path).snapshots_dir
    archive_before = _tree_digest(snapshots)
    versions, changes, fetches = _state(config_path)
    assert [v[1] for v in versions] == [1, 2, 3] and len(changes) == 2

    same = run_cli(config_path, "reextract", "--source", "ismt")
    assert same.returncode == 0, same.stderr
    assert same.stdout.strip() == "ismt: unchanged (3 versions)"
    assert _state(config_path) == (versions, changes, fetches)  # same rows, same ids, same diffs

    _set_remove(config_path, '["ul"]')  # lists are dropped: v1 and v2 now read the same
    dry = run_cli(config_path, "reextract", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("dry run: nothing was changed")
    assert "ismt: versions 3 → 2" in dry.stdout and "cetit: unchanged (0 versions)" in dry.stdout
    assert _state(config_path) == (versions, changes, fetches)

    real = run_cli(config_path, "reextract", "--json")
    assert real.returncode == 0, real.stderr
    report = next(r for r in json.loads(real.stdout)["sources"] if r["source"] == "ismt")
    assert (report["versions_before"], report["versions_after"]) == (3, 2)
    assert report["changed_version_numbers"] == [1, 2, 3]
    # The clause edit's change (same fetch, new wording of both texts) keeps its id; the list edit's goes.
    assert (report["changes_kept"], report["changes_removed"], report["changes_added"]) == (1, 1, 0)
    after_versions, after_changes, after_fetches = _state(config_path)
    assert [v[1] for v in after_versions] == [1, 2] and [c[0] for c in after_changes] == [changes[1][0]]
    assert after_fetches == fetches and _tree_digest(snapshots) == archive_before
    assert ITEM_OLD not in run_cli(config_path, "show", "ismt", "--version", "1").stdout
    [change] = json.loads(run_cli(config_path, "changes", "--json").stdout)["changes"]
    assert (change["old_version"], change["new_version"]) == (1, 2)
    assert [c["inline_text"].count("{+niet +}") for c in change["clauses"]] == [1]
    jsonschema.validate({"schema": "noticewatch.changes/2", "changes": [change]}, SCHEMA)

    _set_remove(config_path, None)  # back to the old settings: the old texts and change pairs return
    back = run_cli(config_path, "reextract", "--source", "ismt")
    assert back.returncode == 0 and "ismt: versions 2 → 3" in back.stdout
    restored, restored_changes, _ = _state(config_path)
    assert [v[2] for v in restored] == [v[2] for v in versions]
    assert sorted(c[3] for c in restored_changes) == sorted(c[3] for c in changes)
    assert changes[1][0] in [c[0] for c in restored_changes]
    assert _tree_digest(snapshots) == archive_before


def test_reextract_missing_snapshot_leaves_the_source_as_it_was(site, config_path):
    assert run_cli(config_path, "run", "--source", "ismt").returncode == 0
    site.edit("ismt", CLAUSE_OLD, CLAUSE_NEW)
    assert run_cli(config_path, "run", "--source", "ismt").returncode == 0
    before = _state(config_path)
    blob = next(f[2] for f in before[2] if f[1] == "changed")
    path = load_config(config_path).snapshots_dir / "blobs" / blob[:2] / blob[2:4] / f"{blob}.gz"
    path.rename(path.with_suffix(".moved"))
    _set_remove(config_path, '["ul"]')
    result = run_cli(config_path, "reextract", "--source", "ismt")
    assert result.returncode == 3
    assert result.stdout.strip() == f"ismt: not rebuilt: snapshot {blob} is missing from " \
                                    f"{load_config(config_path).snapshots_dir}"
    assert _state(config_path) == before
    unknown = run_cli(config_path, "reextract", "--source", "nobody")
    assert unknown.returncode == 2 and "unknown source id(s): nobody" in unknown.stderr
