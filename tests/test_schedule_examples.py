"""The shipped crontab and systemd unit: valid syntax, and commands that really work."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger

from tests.support import REPO, SUBSCRIPTION_TOML, SMTPServer, mail_toml, run_cli

EXAMPLES = REPO / "docs" / "examples"
ENTRY = re.compile(r"^#?\s*((?:\S+\s+){5})(/\S+/noticewatch\s.*)$")


def crontab_entries(include_commented: bool) -> list[tuple[str, list[str]]]:
    """(schedule, noticewatch argv without the program) of each entry line."""
    entries = []
    for line in (EXAMPLES / "noticewatch.crontab").read_text().splitlines():
        if not line.strip() or (line.startswith("#") and not include_commented):
            continue
        match = ENTRY.match(line)
        if match is None:
            assert line.startswith("#"), f"not a crontab entry: {line!r}"
            continue
        command = re.split(r"\s(?:>>|>|\|\|)", match.group(2))[0]
        entries.append((match.group(1).strip(), shlex.split(command)[1:]))
    return entries


def test_crontab_schedules_parse():
    entries = crontab_entries(include_commented=True)
    assert len(entries) == 3
    for schedule, _argv in entries:
        CronTrigger.from_crontab(schedule, timezone="UTC")  # raises on a bad expression


def test_crontab_commands_work(site, tmp_path):
    with SMTPServer() as smtp:
        config = site.write_config(tmp_path / "noticewatch.toml", extra=mail_toml(smtp) + SUBSCRIPTION_TOML)
        entries = crontab_entries(include_commented=False)
        assert [argv[2:] for _s, argv in entries] == [["run", "--due", "--digest"], ["status"]]
        for _schedule, argv in entries:
            assert argv[0] == "--config"
            result = run_cli(config, *argv[2:])
            assert result.returncode == 0, result.stderr
            if argv[2] == "run":
                assert "5 sources, 5 fetched" in result.stdout
        # all were just fetched: nothing is due before 06:00 tomorrow, but digests are still looked at
        again = run_cli(config, *entries[0][1][2:])
    assert again.returncode == 0 and again.stdout.splitlines() == ["nothing due", "digests: nothing due"]


def _unit_for_this_machine(tmp_path: Path) -> Path:
    text = (EXAMPLES / "noticewatch.service").read_text()
    text = text.replace("/opt/noticewatch/.venv/bin/noticewatch", f"{sys.executable} -m monitor")
    path = tmp_path / "noticewatch.service"
    path.write_text(text)
    return path


def test_systemd_unit_parses_strictly_and_runs_the_daemon():
    unit = configparser.ConfigParser(strict=True, interpolation=None)
    unit.optionxform = str
    unit.read_string((EXAMPLES / "noticewatch.service").read_text())
    assert unit.sections() == ["Unit", "Service", "Install"]
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"])
    assert Path(argv[0]).is_absolute() and argv[0].endswith("/bin/noticewatch")
    assert argv[1] == "--config" and Path(argv[2]).is_absolute() and argv[3:] == ["daemon"]
    assert service["KillMode"] == "mixed" and service["KillSignal"] == "SIGTERM"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze (.ci/run installs it)")
def test_systemd_unit_verifies(tmp_path):
    result = subprocess.run(["systemd-analyze", "verify", str(_unit_for_this_machine(tmp_path))],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
