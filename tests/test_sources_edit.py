"""Sources without hand-editing: add/remove/pause/resume keep the file's comments, import and export."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.cli.main import main
from monitor.config import SourcesFile, load_config, parse_config
from monitor.schedule.plan import SOURCE_JOB_PREFIX, SchedulePlan
from tests.support import run_cli

HAND_WRITTEN = """\
# Our notices. Keep this comment.
[storage]
database = "sqlite:///nw.db"   # next to this file

[[source]]
id = "acme"           # the first one
name = "ACME"
url = "https://acme.example/privacy"
select = ["main"]

# a comment between sources
[[source]]
id = "beta"
name = "Beta"
homepage = "https://beta.example/"
"""


def cli(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "noticewatch.toml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    return path


def test_add_then_remove_leaves_the_file_byte_for_byte(config: Path) -> None:
    code, out = cli(config, "add", "https://www.gamma.example/privacy", "--language", "nl", "--name", "Gamma B.V.")
    assert code == 0 and out == "added gamma-b-v: https://www.gamma.example/privacy\n"
    text = config.read_text()
    assert text.startswith(HAND_WRITTEN) and "# a comment between sources" in text
    source = {s.id: s for s in load_config(config).sources}["gamma-b-v"]
    assert (source.name, source.url, source.language) == ("Gamma B.V.", "https://www.gamma.example/privacy", "nl")
    assert cli(config, "remove", "gamma-b-v")[0] == 0
    assert config.read_text() == HAND_WRITTEN


def test_pause_and_resume_edit_one_key_and_stop_crawling_and_planning(config: Path) -> None:
    assert cli(config, "pause", "acme") == (0, "paused acme\n")
    assert cli(config, "pause", "acme") == (0, "acme was already paused\n")
    loaded = load_config(config)
    assert [s.id for s in loaded.config.sources_named(None)] == ["beta"]
    assert [s.id for s in loaded.config.sources_named(["acme"])] == ["acme"]  # named explicitly: still crawled
    jobs = SchedulePlan.from_config(loaded.config).jobs
    assert [j for j in jobs if j.startswith(SOURCE_JOB_PREFIX)] == ["source:beta"]
    assert 'select = ["main"]\npaused = true\n' in config.read_text()
    assert cli(config, "resume", "acme") == (0, "resumed acme\n")
    assert config.read_text() == HAND_WRITTEN


@pytest.mark.parametrize(("args", "message"), [
    (("add", "https://x.example/", "--language", "klingon"), "unknown language 'klingon'"),
    (("add", "https://acme.example/privacy"), "already watched"),
    (("add", "https://x.example/", "--id", "beta"), "source id 'beta' already exists"),
    (("add", "ftp://x.example/"), "not an http(s) URL"),
    (("remove", "nosuch"), "unknown source id 'nosuch' (known: acme, beta)"),
    (("pause", "acme", "nosuch"), "unknown source id 'nosuch'"),
])
def test_a_bad_edit_is_one_line_exit_2_and_leaves_the_file(config: Path, args: tuple[str, ...],
                                                           message: str) -> None:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert config.read_text() == HAND_WRITTEN


def test_add_creates_a_missing_file_as_a_real_process(tmp_path: Path) -> None:
    path = tmp_path / "new.toml"
    result = run_cli(path, "add", "https://notice.example/privacy", timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "added notice: https://notice.example/privacy\n" and result.stderr == ""
    assert [s.id for s in load_config(path).sources] == ["notice"]


names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None)
@given(name=names, path=st.from_regex(r"/[a-z0-9/._-]{0,20}", fullmatch=True))
def test_added_sources_always_load_and_remove_restores_the_text(name: str, path: str) -> None:
    edit = SourcesFile(Path("noticewatch.toml"), HAND_WRITTEN)
    source_id = edit.add({"url": f"https://site.example{path}", "name": name})
    config = edit.validate()
    assert config.source[-1].id == source_id and config.source[-1].name == name
    edit.remove(source_id)
    assert edit.doc.as_string() == HAND_WRITTEN


URLWATCH_JOBS = """\
name: "Shop privacy"
url: "https://shop.example/privacy"
filter: "css:div.content,html2text"
---
name: Legacy with chain
url: https://legacy.example/p
filter:
  - css:
      selector: main
      exclude: nav, .cookie
  - css: article
  - html2text: re
  - grep: Privacy
---
url: https://byid.example/
filter:
  - element-by-id: policy
---
name: xpath one
url: https://xpath.example/
filter:
  - xpath: //div[@id="x"]
---
name: my script
command: ls -al ~
---
name: Rendered
navigate: https://spa.example/privacy
headers:
  X-Token: abc
"""


def test_import_urlwatch_maps_url_name_css_and_reports_the_rest(config: Path, tmp_path: Path) -> None:
    jobs = tmp_path / "urls.yaml"
    jobs.write_text(URLWATCH_JOBS)
    code, out = cli(config, "import", "urlwatch", str(jobs))
    assert code == 0, out
    assert out.splitlines() == [
        "added shop-privacy: https://shop.example/privacy",
        "added legacy-with-chain: https://legacy.example/p",
        "  not mapped: filter 'grep' not mapped (noticewatch has CSS select/remove only)",
        "added byid: https://byid.example/",
        "added xpath-one: https://xpath.example/",
        "  not mapped: filter 'xpath' not mapped (noticewatch has CSS select/remove only)",
        "skipped my script: shell command job: cannot be watched by noticewatch",
        "added rendered: https://spa.example/privacy",
        "  not mapped: key 'headers' not mapped",
        "imported 5 of 6 (1 skipped, 3 settings not mapped)",
    ]
    sources = {s.id: s for s in load_config(config).sources}
    assert sources["shop-privacy"].select == ["div.content"] and sources["shop-privacy"].name == "Shop privacy"
    assert (sources["legacy-with-chain"].select, sources["legacy-with-chain"].remove) == (["main article"],
                                                                                           ["nav, .cookie"])
    assert sources["byid"].select == ["#policy"] and sources["byid"].name == "byid.example"
    assert sources["rendered"].render == "browser"
    assert config.read_text().startswith(HAND_WRITTEN)
    again = cli(config, "import", "urlwatch", str(jobs))[1]
    assert "imported 0 of 6 (6 skipped" in again and "https://shop.example/privacy is already watched" in again


def test_import_dry_run_and_a_file_that_is_not_urlwatch(config: Path, tmp_path: Path) -> None:
    jobs = tmp_path / "urls.yaml"
    jobs.write_text(URLWATCH_JOBS)
    assert "would import 5 of 6" in cli(config, "import", "urlwatch", "--dry-run", str(jobs))[1]
    assert config.read_text() == HAND_WRITTEN
    jobs.write_text("- just\n- a list\n")
    result = CliRunner().invoke(main, ["--config", str(config), "import", "urlwatch", str(jobs)])
    assert result.exit_code == 2 and "not a mapping of keys" in result.output


def _watch(url: str, **extra: object) -> dict:
    """A watch as changedetection.io stores it (a subset of its many default keys)."""
    return {"url": url, "title": None, "include_filters": [], "subtractive_selectors": [], "paused": False,
            "fetch_backend": "system", "processor": "text_json_diff", "tags": [], "ignore_text": [],
            "time_between_check": {"weeks": None, "days": None, "hours": None, "minutes": None, "seconds": None},
            "time_between_check_use_default": True, "method": "GET", "headers": {}, **extra}


TAG = "6a5b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
WATCHES = {
    "0d7c6e1a-3b2a-4c5d-9e8f-7a6b5c4d3e2f": _watch("https://one.example/privacy", title="One",
                                                   include_filters=["#content", "xpath://div"],
                                                   subtractive_selectors=[".banner"], tags=[TAG]),
    "1e8d7f2b-4c3b-4d6e-8f9a-8b7c6d5e4f3a": _watch("https://two.example/p", paused=True,
                                                   fetch_backend="html_webdriver", ignore_text=["Updated"],
                                                   time_between_check_use_default=False,
                                                   time_between_check={"weeks": None, "days": 1, "hours": 6,
                                                                       "minutes": None, "seconds": None}),
    "2f9e8a3c-5d4c-4e7f-9a0b-9c8d7e6f5a4b": _watch("https://shop.example/item", processor="restock_diff"),
    "3a0f9b4d-6e5d-4f8a-8b1c-0d9e8f7a6b5c": _watch("file:///etc/passwd", title="Local file"),
}
EXPECTED_CHANGEDETECTION = [
    "added one: https://one.example/privacy",
    "  not mapped: filter 'xpath://div' not mapped (noticewatch has CSS select/remove only)",
    "  not mapped: tags not mapped: Legal",
    "added two: https://two.example/p",
    "  not mapped: ignore_text not mapped",
    "added shop: https://shop.example/item",
    "  not mapped: processor 'restock_diff' not mapped (watched as text)",
    "skipped Local file: url 'file:///etc/passwd' is not an http(s) address",
    "imported 3 of 4 (1 skipped, 4 settings not mapped)",
]


def _check_changedetection_import(config: Path) -> None:
    sources = {s.id: s for s in load_config(config).sources}
    assert (sources["one"].name, sources["one"].select, sources["one"].remove) == ("One", ["#content"],
                                                                                    [".banner"])
    two = sources["two"]
    assert (two.paused, two.render, two.schedule) == (True, "browser", "every 1d6h")


def test_import_changedetection_backup_zip(config: Path, tmp_path: Path) -> None:
    backup = tmp_path / "changedetection-backup-20261201.zip"
    with zipfile.ZipFile(backup, "w") as archive:
        archive.writestr("changedetection.json", json.dumps(
            {"settings": {"application": {"tags": {TAG: {"title": "Legal", "uuid": TAG}}}}}))
        for uuid, watch in WATCHES.items():
            archive.writestr(f"{uuid}/watch.json", json.dumps(watch))
            archive.writestr(f"{uuid}/history.txt", "")
    code, out = cli(config, "import", "changedetection", str(backup))
    assert code == 0 and out.splitlines() == EXPECTED_CHANGEDETECTION
    _check_changedetection_import(config)


def test_import_changedetection_legacy_url_watches_json(config: Path, tmp_path: Path) -> None:
    store = tmp_path / "url-watches.json"
    store.write_text(json.dumps({"watching": WATCHES, "settings": {"application": {"tags": {
        TAG: {"title": "Legal"}}}}}))
    code, out = cli(config, "import", "changedetection", str(store))
    assert code == 0 and out.splitlines() == EXPECTED_CHANGEDETECTION
    _check_changedetection_import(config)


def test_export_toml_and_urlwatch_round_trip(config: Path, tmp_path: Path) -> None:
    cli(config, "add", "https://gamma.example/", "--browser")
    code, out = cli(config, "export")
    assert code == 0
    assert [s.model_dump() for s in parse_config(out).source] == [s.model_dump() for s in load_config(config).sources]
    jobs = tmp_path / "urls.yaml"
    assert cli(config, "export", "--format", "urlwatch", "-o", str(jobs))[0] == 0
    fresh = tmp_path / "fresh.toml"
    fresh.write_text("")
    code, out = cli(fresh, "import", "urlwatch", str(jobs))
    assert code == 0 and "imported 3 of 3 (0 skipped, 0 settings not mapped)" in out
    keys = ("name", "start_url", "select", "remove", "render")
    assert ([[getattr(s, k) for k in keys] for s in load_config(fresh).sources]
            == [[getattr(s, k) for k in keys] for s in load_config(config).sources])
