"""Configuration: every mistake is one line naming the file, the key and the problem, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config.settings import ConfigError, load_config, parse_config
from tests.support import REPO, run_cli

GOOD = """
[[source]]
id = "acme"
name = "Acme"
url = "https://acme.example/privacy"
"""


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (GOOD + 'colour = "red"\n', "source[0].colour", "unknown key"),
        ("[storage]\ndatabse = 'sqlite://'\n", "storage.databse", "unknown key"),
        ('[[source]]\nid = "a"\nname = "A"\n', "source[0]", "needs `url` or `homepage`"),
        ('[[source]]\nid = "a"\nname = "A"\nurl = "htp:/nope"\n', "source[0].url", "not an http(s) URL"),
        (GOOD + GOOD, "source[1].id", "duplicate id 'acme'"),
        (GOOD + 'select = ["div[[oops"]\n', "source[0].select", "bad CSS selector"),
        # Valid CSS that lxml's cssselect, which applies selectors, cannot run: refused here, not per fetch.
        (GOOD + 'remove = ["p:not(.a, .b)"]\n', "source[0].remove", "bad CSS selector"),
        (GOOD + 'select = ["a:any-link"]\n', "source[0].select", "bad CSS selector"),
        ('[[source]]\nname = "A"\nurl = "https://a.example/"\n', "source[0].id", "missing required key"),
        ("[crawl]\ndelay = -1\n", "crawl.delay", "greater than or equal to 0"),
        ("[storage]\ndatabase = 'not a url'\n", "storage.database", "not a SQLAlchemy database URL"),
        ("[[source]\n", "", "not valid TOML"),
        (GOOD + 'language = "klingon"\n', "source[0].language",
         "unknown language 'klingon' (noticewatch reads nl (Dutch), en (English), de (German), fr (French))"),
        (GOOD + 'homepage = "https://acme.example/"\n', "source[0]", "give `url` (the notice) or `homepage`"),
    ],
)
def test_config_errors_are_one_line_with_file_and_key(text, key, problem):
    with pytest.raises(ConfigError) as err:
        parse_config(text, "my.toml")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("my.toml: ")
    assert f": {key}: " in message or not key
    assert problem in message


def test_cli_config_error_exits_2_with_one_line(tmp_path):
    config = tmp_path / "noticewatch.toml"
    config.write_text(GOOD + GOOD)
    result = run_cli(config, "run")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert str(config) in result.stderr and "source[1].id" in result.stderr and "duplicate" in result.stderr


def test_missing_config_file_exits_2(tmp_path):
    result = run_cli(tmp_path / "absent.toml", "changes")
    assert result.returncode == 2
    assert "configuration file not found" in result.stderr


def test_config_from_environment_variable(tmp_path):
    config = tmp_path / "elsewhere.toml"
    config.write_text(GOOD)
    result = run_cli(None, "run", "--source", "nope", env={"NOTICEWATCH_CONFIG": str(config)})
    assert result.returncode == 2
    assert "unknown source id(s): nope" in result.stderr


def test_relative_storage_paths_are_relative_to_the_config_file(tmp_path):
    config = tmp_path / "sub" / "nw.toml"
    config.parent.mkdir()
    config.write_text('[storage]\ndatabase = "sqlite:///data/nw.db"\nsnapshots = "raw"\n' + GOOD)
    loaded = load_config(config)
    assert loaded.snapshots_dir == (tmp_path / "sub" / "raw").resolve()
    assert loaded.database_url == f"sqlite:///{(tmp_path / 'sub' / 'data' / 'nw.db').resolve()}"


def test_shipped_example_is_valid():
    loaded = load_config(REPO / "examples" / "seeds.toml")
    assert [s.id for s in loaded.sources] == ["ingram-micro", "westcon-comstor", "partners4it", "ismt", "cetit"]
    assert all(s.url or s.homepage for s in loaded.sources)


def test_storage_error_exits_3_and_names_the_database(tmp_path: Path):
    config = tmp_path / "nw.toml"
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    config.write_text(f'[storage]\ndatabase = "sqlite:///{blocker}/x.db"\n' + GOOD)
    result = run_cli(config, "changes")
    assert result.returncode == 3
    assert "database" in result.stderr and result.stderr.strip().count("\n") == 0


def test_web_stale_after_days_is_the_one_stale_after_setting_with_a_deprecation_line():
    old = parse_config("[web]\nstale_after_days = 5\n", "my.toml")
    assert old.schedule.stale_after == 5 * 86400
    assert old.deprecations == ['my.toml: web.stale_after_days is deprecated: write [schedule] stale_after = "5d" '
                                "(one setting for the web overview and `status`)"]
    both = parse_config('[web]\nstale_after_days = 5\n[schedule]\nstale_after = "1d"\n', "my.toml")
    assert both.schedule.stale_after == 86400 and "deprecated and ignored" in both.deprecations[0]
    assert parse_config('[schedule]\nstale_after = "1d"\n').deprecations == []
