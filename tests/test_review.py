"""Review state: `noticewatch review` records who assessed a change, when and why; counts of open ones."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner
from sqlmodel import Session

from monitor.cli.main import main
from monitor.config import load_config
from monitor.store import open_db, reviews_for, unreviewed_counts
from tests.support import run_cli
from tests.support.digest import seed_history
from tests.support.smtp import write_config

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _history(tmp_path, db_url):
    path = write_config(tmp_path / "noticewatch.toml", db_url, None, subscriptions="")
    engine = open_db(load_config(path).database_url)
    return path, engine, seed_history(engine, NOW - dt.timedelta(hours=1))


def test_review_records_who_when_and_note_and_the_open_count_drops(tmp_path, db_url):
    path, engine, change_ids = _history(tmp_path, db_url)
    with Session(engine) as session:
        before = unreviewed_counts(session)
    assert sum(before.values()) == len(change_ids) == 3
    first = change_ids[0]
    result = CliRunner().invoke(main, ["--config", str(path), "review", str(first), "--by", "Anna de Vries",
                                       "--note", "Bewaartermijn\x1b[2J langer:\n   DPO gevraagd"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"change {first}: reviewed by Anna de Vries at ")
    assert result.output.rstrip().endswith(": Bewaartermijn [2J langer: DPO gevraagd")  # one line, no escapes
    with Session(engine) as session:
        review = reviews_for(session, change_ids)[first]
        after = unreviewed_counts(session)
    assert review.reviewed_by == "Anna de Vries" and review.note == "Bewaartermijn [2J langer: DPO gevraagd"
    assert sum(after.values()) == 2
    again = CliRunner().invoke(main, ["--config", str(path), "review", str(first), "--by", "Piet"])
    assert again.exit_code == 0
    with Session(engine) as session:
        latest = reviews_for(session, [first])[first]
    assert (latest.reviewed_by, latest.note) == ("Piet", None)  # the latest review wins


def test_review_of_an_unknown_change_is_one_line_and_the_reviewer_comes_from_the_environment(tmp_path, db_url):
    path, _engine, change_ids = _history(tmp_path, db_url)
    missing = run_cli(path, "review", "999999", timeout=60)
    assert missing.returncode == 1 and missing.stderr == "noticewatch: no change 999999 (see `noticewatch changes`)\n"
    done = run_cli(path, "review", str(change_ids[1]), env={"NOTICEWATCH_REVIEWER": "legal-team"}, timeout=60)
    assert done.returncode == 0 and f"change {change_ids[1]}: reviewed by legal-team at " in done.stdout
    assert done.stderr == ""


def test_the_digest_says_how_many_changes_are_still_unreviewed(tmp_path, db_url):
    from monitor.digest import preview
    from monitor.store import mark_reviewed
    from tests.support import SUBSCRIPTION_TOML

    path = write_config(tmp_path / "noticewatch.toml", db_url, None, subscriptions=SUBSCRIPTION_TOML)
    loaded = load_config(path)
    engine = open_db(loaded.database_url)
    change_ids = seed_history(engine, NOW - dt.timedelta(hours=1))
    sub = loaded.config.subscription[0]
    text = preview(engine, loaded, sub, NOW).get_body(("plain",)).get_content()
    assert "3 changes not yet reviewed by your team" in text
    mark_reviewed(engine, change_ids[0], "anna")
    mark_reviewed(engine, change_ids[1], "anna")
    message = preview(engine, loaded, sub, NOW)
    assert "1 change not yet reviewed by your team" in message.get_body(("plain",)).get_content()
    assert "1 change not yet reviewed by your team" in message.get_body(("html",)).get_content()
