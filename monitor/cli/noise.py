"""CLI commands of noise handling: `noticewatch rules` lists the noise rules, `noticewatch evaluate`
replays the noise and hard-page fixtures and prints the false/missed/caught figures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the rules as JSON.")
def rules(as_json: bool) -> None:
    """List the noise rules the extractor applies, in order, with what each one does."""
    from monitor.extract import RULES, STAGES

    ordered = sorted(RULES.values(), key=lambda r: STAGES.index(r.stage))
    if as_json:
        click.echo(json.dumps([{"name": r.name, "stage": r.stage, "doc": r.doc} for r in ordered], indent=2))
        return
    for rule in ordered:
        click.echo(f"{rule.name} ({rule.stage})")
        click.echo(f"    {rule.doc}")


@click.command()
@click.option("--fixtures", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Fixture directory (default: tests/fixtures of this checkout).")
@click.option("--seed", "seeds", multiple=True, metavar="ID", help="Only these seed notices (repeatable).")
@click.option("--verbose", "-v", is_flag=True, help="List every failing case.")
def evaluate(fixtures: Path | None, seeds: tuple[str, ...], verbose: bool) -> None:
    """Replay the noise fixtures: false changes, missed changes, suspicious fetches caught; then the
    whole-page sets (tuning and held-out apart): false alarms, misses, dates right/wrong/missed per language.

    Exits 0 when the targets are met (no false change, no missed change, every suspicious fetch
    caught), 1 otherwise.
    """
    from monitor.devtools import DEFAULT_FIXTURES, SEED_NAMES, evaluate_pages
    from monitor.devtools import evaluate as run

    directory = fixtures or DEFAULT_FIXTURES
    if not directory.is_dir():
        click.echo(f"noticewatch: {directory}: fixture directory not found (use --fixtures)", err=True)
        sys.exit(2)
    unknown = [s for s in seeds if s not in SEED_NAMES]
    if unknown:
        click.echo(f"noticewatch: --seed: unknown seed(s): {', '.join(unknown)}", err=True)
        sys.exit(2)
    outcome = run(directory, list(seeds) or None)
    click.echo(outcome.summary())
    if verbose or not outcome.ok:
        for line in outcome.details():
            click.echo(line)
    for score in evaluate_pages(directory / "pages"):
        click.echo(score.summary())
        if verbose:
            for line in score.details():
                click.echo(line)
    sys.exit(0 if outcome.ok else 1)


