"""`noticewatch digest preview | send | outbox`: e-mail digests from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from monitor.cli.context import EXIT_CONFIG, EXIT_NOT_FOUND, Context, fail, pass_ctx
from monitor.config import ConfigError


def send_and_print(ctx: Context, names: list[str] | None, as_json: bool = False) -> None:
    """Compose and send due digests, printing the report (shared by `digest send` and `run --digest`)."""
    from monitor.digest import send_due_digests

    try:
        report = send_due_digests(ctx.loaded, ctx.engine, datetime.now(UTC), names)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    for line in report.lines():
        click.echo(line, err=line.startswith("digest ") and " not sent " in line)


def check_mail(ctx: Context) -> None:
    """Fail early (exit 2) when digests cannot be sent: no [mail] table or no password in the environment."""
    from monitor.digest import require_mail

    try:
        require_mail(ctx.loaded)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)


@click.group()
def digest() -> None:
    """Compose, preview and send e-mail digests of changes."""


@digest.command()
@click.option("--subscription", "name", metavar="NAME", help="Only this subscription (default: all).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Also write the HTML part here.")
@click.option("--raw", "raw", is_flag=True, help="Print the whole e-mail (headers, both parts) instead of the text.")
@pass_ctx
def preview(ctx: Context, name: str | None, html_path: str | None, raw: bool) -> None:
    """Render what each subscription would get now, without sending or recording anything."""
    from email.policy import SMTP

    from monitor.digest import preview as preview_message
    from monitor.digest import subscriptions_named

    try:
        subs = subscriptions_named(ctx.loaded, [name] if name else None)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    if not subs:
        fail("no [[subscription]] in the configuration", EXIT_NOT_FOUND)
    if html_path and len(subs) > 1:
        fail("--html: name one subscription with --subscription", EXIT_CONFIG)
    for index, sub in enumerate(subs):
        message = preview_message(ctx.engine, ctx.loaded, sub, datetime.now(UTC))
        if index:
            click.echo("\n" + "#" * 76 + "\n")
        if raw:
            click.echo(message.as_bytes(policy=SMTP).decode("ascii").replace("\r\n", "\n"), nl=False)
        else:
            click.echo(f"Subject: {message['Subject']}\nTo: {message['To']}\n")
            click.echo(message.get_body(("plain",)).get_content(), nl=False)
        if html_path:
            Path(html_path).write_text(message.get_body(("html",)).get_content(), encoding="utf-8")


@digest.command()
@click.option("--subscription", "names", multiple=True, metavar="NAME", help="Only these subscriptions.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_ctx
def send(ctx: Context, names: tuple[str, ...], as_json: bool) -> None:
    """Compose the digests that are due and send the outbox (retrying earlier failures)."""
    send_and_print(ctx, list(names) or None, as_json)


@digest.command()
@click.option("--all", "include_sent", is_flag=True, help="Include messages already sent.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def outbox(ctx: Context, include_sent: bool, as_json: bool) -> None:
    """List the messages in the outbox with their delivery state and last error."""
    from sqlmodel import Session

    from monitor.core import iso_utc
    from monitor.store import outbox_messages

    with Session(ctx.engine) as session:
        rows = [{"id": m.id, "subscription": m.subscription, "message_id": m.message_id, "state": m.state,
                 "subject": m.subject, "attempts": m.attempts, "uncertain_attempts": m.uncertain_attempts,
                 "composed_at": iso_utc(m.composed_at), "next_attempt_at": iso_utc(m.next_attempt_at),
                 "sent_at": iso_utc(m.sent_at), "last_error": m.last_error}
                for m in outbox_messages(session, include_sent=include_sent)]
    if as_json:
        click.echo(json.dumps({"messages": rows}, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("outbox empty")
    for r in rows:
        extra = f"  next {r['next_attempt_at']}  {r['last_error']}" if r["state"] != "sent" and r["last_error"] else ""
        click.echo(f"#{r['id']:<5} {r['state']:<9} {r['subscription']:<16} tries {r['attempts']}  "
                   f"{r['subject']}{extra}")
