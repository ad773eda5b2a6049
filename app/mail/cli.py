"""`flask outbox ...`: send queued e-mails, list the outbox, send a test message."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db
from app.mail import services
from app.mail.models import OUTBOX_STATUSES
from app.mail.smtp import AddressError, split_address

outbox_cli = AppGroup("outbox", help="The e-mail outbox.")


def _echo_results(report: services.SendReport) -> None:
    for result in report.results:
        click.echo(f"{result.message_id}\t{result.recipient}\t{result.status}"
                   + (f"\t{result.error}" if result.error else ""))
    click.echo(report.summary())


@outbox_cli.command("send")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Send at most this many messages.")
def send(limit: int | None):
    """Send the queued messages that are due, oldest first: one line per message, then a summary.

    Exit code 0 when the server answered (refused or postponed messages are recorded in the outbox),
    1 when the SMTP server could not be reached at all. Run it every few minutes (cron, systemd timer).
    """
    report = services.send_queued(limit=limit)
    _echo_results(report)
    if report.unreachable:
        raise SystemExit(1)


@outbox_cli.command("list")
@click.option("--status", type=click.Choice(OUTBOX_STATUSES), default=None, help="Only messages with this status.")
@click.option("--kind", default=None, help="Only messages of this kind (invitation, reminder, ...).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many messages.")
def list_(status: str | None, kind: str | None, limit: int | None):
    """List messages, newest first: id, created, kind, status, attempts, recipient, subject, last error."""
    for m in services.recent_messages(status=status, kind=kind, limit=limit):
        created = m.created_at.strftime("%Y-%m-%d %H:%M")
        click.echo(f"{m.id}\t{created}\t{m.kind}\t{m.status}\t{m.attempts}\t{m.recipient}\t{m.subject}"
                   + (f"\t{m.last_error}" if m.last_error else ""))


@outbox_cli.command("test")
@click.argument("email")
@click.option("--locale", default=None, help="Language of the message (default: DEFAULT_LOCALE).")
def test(email: str, locale: str | None):
    """Queue a test message to EMAIL and send it at once; exit code 1 when it was not sent."""
    locale = locale or current_app.config["DEFAULT_LOCALE"]
    if locale not in current_app.config["LOCALES"]:
        raise click.BadParameter(f"choose one of {', '.join(current_app.config['LOCALES'])}", param_hint="--locale")
    try:
        split_address(email)
    except AddressError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from exc
    message = services.queue_test_message(email.strip(), locale=locale)
    db.session.commit()
    report = services.send_queued(ids=[message.id])
    _echo_results(report)
    if report.count("sent") != 1:
        raise SystemExit(1)
