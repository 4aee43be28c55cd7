"""The sample digest in docs/: seed notices with real edits, through the real pipeline and templates.

`python -m tests.support.digest_sample` rewrites docs/sample-digest.{txt,html}; a test checks
that the committed files are what the code renders today.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from monitor.config.settings import load_config  # noqa: E402
from monitor.digest.send import preview  # noqa: E402
from monitor.store.db import open_db  # noqa: E402
from tests.support.digest import record_failures, seed_history  # noqa: E402
from tests.support.smtp import write_config

DOCS = Path(__file__).resolve().parents[2] / "docs"
SAMPLE_NOW = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)
SAMPLE_SUBSCRIPTION = """
[[subscription]]
name = "privacy-team"
to = ["Privacy Team <privacy@example.org>"]
frequency = "daily"
hour = 7
language = "en"
"""


class _FakePort:
    port = 2525


def render_sample() -> tuple[str, str, str]:
    """(subject, text, html) of the sample digest, identical on every run."""
    with tempfile.TemporaryDirectory() as tmp:
        config = write_config(Path(tmp) / "noticewatch.toml", f"sqlite:///{tmp}/nw.db", _FakePort(),
                              subscriptions=SAMPLE_SUBSCRIPTION)
        loaded = load_config(config)
        engine = open_db(loaded.database_url)
        seed_history(engine, SAMPLE_NOW - dt.timedelta(hours=20))
        record_failures(engine, "westcon-comstor", 3, SAMPLE_NOW - dt.timedelta(hours=18),
                        "HTTP 503 Service Unavailable")
        message = preview(engine, loaded, loaded.config.subscription[0], SAMPLE_NOW)
        engine.dispose()
    return (str(message["Subject"]), message.get_body(("plain",)).get_content(),
            message.get_body(("html",)).get_content())


if __name__ == "__main__":
    subject, text, html = render_sample()
    (DOCS / "sample-digest.txt").write_text(f"Subject: {subject}\n\n{text}", encoding="utf-8")
    (DOCS / "sample-digest.html").write_text(html, encoding="utf-8")
    print(f"wrote {DOCS / 'sample-digest.txt'} and {DOCS / 'sample-digest.html'}")
