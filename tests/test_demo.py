"""`noticewatch demo` shows a real change detected on a machine without internet."""

from __future__ import annotations

import json

from tests.support import run_cli


def test_demo_crawls_edits_and_reports_the_change(tmp_path):
    result = run_cli(None, "demo", "--dir", str(tmp_path / "demo"), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "5 sources, 5 fetched, 0 unchanged, 0 changed, 5 new, 0 failed" in out
    assert "5 sources, 5 fetched, 4 unchanged, 1 changed, 0 new, 0 failed" in out
    assert "partners4it" in out and "Verenigde Staten" in out
    kept = run_cli(tmp_path / "demo" / "noticewatch.toml", "changes", "--json")
    [change] = json.loads(kept.stdout)["changes"]
    assert change["source"] == "partners4it"
