"""Queue e-mails in the outbox (rendered in the recipient's language) and send them over SMTP.

`queue` only adds a row to the session: the message is committed together with the action that
caused it, so it cannot be lost or sent for an action that was rolled back.

Sending is the one exception to "services flush, never commit": `send_queued` claims each message with
a conditional UPDATE and commits the claim, then talks to the server with no transaction open, then
commits the result. A crash half-way through a batch therefore loses nothing, and two `flask outbox send`
processes (or a send after a request and the scheduled command) never send the same message twice.
The one unavoidable gap: if the process dies after the server accepted a message but before the result
was committed, the message is sent again after its back-off (at least once, never lost).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from flask import Flask, current_app, g, has_request_context, render_template
from sqlalchemy import func, or_, select, update

from app.core import audit
from app.core.models import as_utc, utcnow
from app.core.pagination import Page, page_number
from app.extensions import db
from app.i18n import _, default_timezone, force_locale, ngettext
from app.mail.models import OUTBOX_STATUSES, OutboxMessage
from app.mail.smtp import RETRY, SENT, Outcome, Outgoing, SmtpSession, SmtpSettings

logger = logging.getLogger("app.mail")

#: Minutes to wait after the 1st, 2nd, 3rd, 4th failed attempt; the last value repeats (hourly).
BACKOFF_MINUTES = (1, 5, 15, 60)

#: While a message is being sent it looks like one waiting for a retry; for this long after an attempt started,
#: no other run takes it (longer than any SMTP exchange; a run that died mid-send is retried after it).
SENDING_LEASE = timedelta(minutes=10)

#: Messages on one page of the admin list.
PER_PAGE = 50

#: Statuses a person may put back in the queue.
RETRYABLE = ("failed", "bounced")

#: Key in flask.g of the message ids to send once the response has gone out.
_SEND_SOON = "outbox_send_soon"


class OutboxError(ValueError):
    """An outbox operation was refused; the message is shown to the person."""


def render_message(template: str, locale: str, context: dict) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of `mail/<template>.{subject.txt,txt,html}` rendered in `locale`."""
    with default_timezone(), force_locale(locale):
        subject = render_template(f"mail/{template}.subject.txt", **context).strip()
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", **context)
    return " ".join(subject.split()), text, html


def queue(kind: str, *, to: str, to_name: str = "", locale: str, template: str, context: dict,
          actor=None) -> OutboxMessage:
    """Render a message in `locale` and add it to the outbox (flushed, not committed)."""
    subject, text, html = render_message(template, locale, {**context, "recipient_name": to_name})
    message = OutboxMessage(kind=kind, recipient=to, recipient_name=to_name, locale=locale, subject=subject,
                            body_text=text, body_html=html, status="queued",
                            created_by_id=getattr(actor, "id", actor))
    db.session.add(message)
    db.session.flush()
    return message


def queue_test_message(to: str, *, locale: str, actor=None) -> OutboxMessage:
    """Queue a short test e-mail (is the mail server set up?) in `locale` (flushed, not committed)."""
    config = current_app.config
    return queue("test", to=to, locale=locale, template="test_message", actor=actor,
                 context={"server": f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}"})


# --- sending ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    """What one attempt did to one message."""

    message_id: int
    recipient: str
    #: The message's status afterwards: "sent", "queued" (tried again later), "failed" or "bounced".
    status: str
    error: str | None = None


@dataclass
class SendReport:
    """The messages a send run tried, and whether the SMTP server could be reached."""

    results: list[SendResult] = field(default_factory=list)
    #: Why the server could not be reached, when it could not (the first connection error of the run).
    connection_error: str | None = None
    #: Queued messages a "Send now" left alone because they were tried less than SENDING_LEASE ago (another
    #: run may still be sending them).
    held_back: int = 0

    def count(self, status: str) -> int:
        """How many messages of the run ended with `status`."""
        return sum(1 for r in self.results if r.status == status)

    @property
    def unreachable(self) -> bool:
        """True when messages were due but the server could not be reached for any of them."""
        return self.connection_error is not None and self.count("sent") == 0

    def summary(self) -> str:
        """One sentence for people: how many were sent, will be retried, failed, bounced."""
        if not self.results and self.held_back:
            return ngettext("%(num)d queued message was tried less than %(minutes)d minutes ago and may still be "
                            "on its way: try again in a few minutes.",
                            "%(num)d queued messages were tried less than %(minutes)d minutes ago and may still be "
                            "on their way: try again in a few minutes.", self.held_back,
                            minutes=int(SENDING_LEASE.total_seconds() // 60))
        if not self.results:
            return _("No message was waiting to be sent.")
        text = _("Sent: %(sent)d. To be retried later: %(queued)d. Failed: %(failed)d. Bounced: %(bounced)d.",
                 sent=self.count("sent"), queued=self.count("queued"), failed=self.count("failed"),
                 bounced=self.count("bounced"))
        withdrawn = self.count("withdrawn")
        if withdrawn:  # no longer wanted when their turn came (a link revoked, an agency that submitted...)
            text += " " + _("Withdrawn, no longer wanted: %(withdrawn)d (the outbox gives each one's reason).",
                            withdrawn=withdrawn)
        if self.connection_error:
            text += " " + _("The mail server could not be reached: %(error)s", error=self.connection_error)
        return text


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next attempt after `attempts` attempts (1, 5, 15, 60 minutes, then hourly)."""
    return timedelta(minutes=BACKOFF_MINUTES[min(max(attempts, 1), len(BACKOFF_MINUTES)) - 1])


def smtp_settings(config) -> SmtpSettings:
    """The SMTP settings of an app configuration."""
    return SmtpSettings(
        host=config["MAIL_SERVER"],
        port=int(config["MAIL_PORT"]),
        sender=config["MAIL_DEFAULT_SENDER"],
        username=config.get("MAIL_USERNAME") or "",
        password=config.get("MAIL_PASSWORD") or "",
        use_tls=bool(config.get("MAIL_USE_TLS")),
        use_ssl=bool(config.get("MAIL_USE_SSL")),
        timeout=float(config.get("MAIL_TIMEOUT") or 10),
        reply_to=config.get("MAIL_REPLY_TO") or "",
    )


#: Checks, by the modules that queue messages with links in them, that a queued message is still wanted:
#: check(message id) -> None, or the English sentence saying why not (its link was revoked meanwhile, ...).
_WANTED_CHECKS: dict[str, Callable[[int], str | None]] = {}


def register_wanted_check(name: str, check: Callable[[int], str | None]) -> None:
    """Have `check` consulted before each message is sent (and before one is put back in the queue): a message
    it gives a reason for is withdrawn instead of sent, with the reason as its last error."""
    _WANTED_CHECKS[name] = check


def unwanted(message_id: int) -> str | None:
    """Why a queued message should not go out any more, or None."""
    for check in _WANTED_CHECKS.values():
        reason = check(message_id)
        if reason:
            return reason
    return None


def send_queued(limit: int | None = None, now: datetime | None = None, *, ids=None,
                ignore_backoff: bool = False) -> SendReport:
    """Send the queued messages that are due, oldest first, over one SMTP connection; commits each result.

    `ids` restricts the run to those messages (sending after a request); `ignore_backoff` also sends the
    messages waiting for their next attempt, except those tried in the last SENDING_LEASE (a person pressed
    "Send now"). `now` replaces the clock (tests).
    Call it with no unsaved changes in the session: it commits.
    """
    clock = (lambda: as_utc(now)) if now is not None else utcnow
    config = current_app.config
    max_attempts = int(config.get("MAIL_MAX_ATTEMPTS") or 8)
    report = SendReport()
    candidates = _candidates(clock(), limit, ids, ignore_backoff)
    if ignore_backoff and not candidates and ids is None:
        report.held_back = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == "queued")) or 0
    db.session.commit()
    if not candidates:
        return report
    with SmtpSession(smtp_settings(config)) as smtp:
        for message_id, seen in candidates:
            started = clock()
            if not _claim(message_id, seen, started):
                continue  # another process took it
            reason = unwanted(message_id)
            if reason:  # queued while its link worked; not any more (revoked, the agency submitted, ...)
                db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(
                    status="withdrawn", next_attempt_at=None, last_error=reason)
                    .execution_options(synchronize_session=False))
                recipient = db.session.scalar(select(OutboxMessage.recipient).where(OutboxMessage.id == message_id))
                db.session.commit()
                report.results.append(SendResult(message_id, recipient, "withdrawn", reason))
                logger.info("outbox message %s: withdrawn (%s)", message_id, reason)
                continue
            outgoing = _outgoing(message_id)
            db.session.commit()  # no transaction stays open while the server answers
            outcome = smtp.deliver(outgoing, now=started)
            status = _record(message_id, seen + 1, outcome, clock(), max_attempts)
            db.session.commit()
            report.results.append(SendResult(message_id, outgoing.recipient, status, outcome.error))
            if outcome.unreachable and report.connection_error is None:
                report.connection_error = outcome.error
            logger.info("outbox message %s: %s", message_id, status)
    return report


def _candidates(at: datetime, limit: int | None, ids, ignore_backoff: bool) -> list[tuple[int, int]]:
    """(id, attempts) of the queued messages to try, oldest first."""
    stmt = select(OutboxMessage.id, OutboxMessage.attempts).where(OutboxMessage.status == "queued")
    if ids is not None:
        ids = list(ids)
        if not ids:
            return []
        stmt = stmt.where(OutboxMessage.id.in_(ids))
    due = or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= at)
    if ignore_backoff:  # but never one that another run may be sending right now
        due = or_(due, OutboxMessage.last_attempt_at.is_(None), OutboxMessage.last_attempt_at <= at - SENDING_LEASE)
    stmt = stmt.where(due)
    stmt = stmt.order_by(OutboxMessage.created_at, OutboxMessage.id)
    if limit:
        stmt = stmt.limit(limit)
    return [(row.id, row.attempts) for row in db.session.execute(stmt)]


def _claim(message_id: int, seen_attempts: int, at: datetime) -> bool:
    """Take a message for this process, committed; False when another process took it first.

    The UPDATE only matches while the message is still queued with the number of attempts this process
    saw, so of two processes that read the same row only one changes it (on PostgreSQL the second waits
    for the first's commit, then finds the row changed; SQLite runs one writer at a time). The next
    attempt is already set a lease ahead, so no run picks the message up while it is being sent, and if
    this process dies while sending, the message is tried again later instead of being lost.
    """
    attempts = seen_attempts + 1
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "queued",
               OutboxMessage.attempts == seen_attempts)
        .values(attempts=attempts, last_attempt_at=at, next_attempt_at=at + max(backoff(attempts), SENDING_LEASE))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _outgoing(message_id: int) -> Outgoing:
    row = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.recipient_name, OutboxMessage.locale,
               OutboxMessage.subject, OutboxMessage.body_text, OutboxMessage.body_html)
        .where(OutboxMessage.id == message_id)
    ).one()
    return Outgoing(id=row.id, recipient=row.recipient, recipient_name=row.recipient_name or "", locale=row.locale,
                    subject=row.subject, body_text=row.body_text, body_html=row.body_html or "")


def _record(message_id: int, attempts: int, outcome: Outcome, at: datetime, max_attempts: int) -> str:
    """Write the outcome of an attempt (not committed); returns the message's new status."""
    if outcome.result == SENT:
        values = {"status": "sent", "sent_at": at, "next_attempt_at": None, "last_error": None}
    elif outcome.result == RETRY and attempts < max_attempts:
        values = {"status": "queued", "next_attempt_at": at + backoff(attempts), "last_error": outcome.error}
    elif outcome.result == RETRY:
        values = {"status": "failed", "next_attempt_at": None, "last_error": outcome.error}
    else:  # failed or bounced: permanent, no further attempt
        values = {"status": outcome.result, "next_attempt_at": None, "last_error": outcome.error}
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values)
                       .execution_options(synchronize_session=False))
    return values["status"]


def retry(message_id: int, actor=None, *, channel: str = "web") -> OutboxMessage:
    """Put a failed or bounced message back in the queue with a fresh count of attempts (audited; flushed)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise OutboxError(_("There is no such message in the outbox."))
    if message.status not in RETRYABLE:
        raise OutboxError(_("Only a failed or bounced message can be put back in the queue."))
    reason = unwanted(message.id)
    if reason:  # its link would open nothing
        from app.mail.errors import error_text

        raise OutboxError(_("This message is not put back in the queue: %(reason)s", reason=error_text(reason)))
    old = {"status": message.status, "attempts": message.attempts, "last_error": message.last_error}
    message.status = "queued"
    message.attempts = 0
    message.next_attempt_at = None
    db.session.flush()
    audit.record("outbox.retried", actor=actor, object_type="outbox_message", object_id=message.id, old=old,
                 new={"status": "queued", "attempts": 0}, channel=channel)
    return message


# --- sending after the request -----------------------------------------------------------------------------


def send_soon(message: OutboxMessage) -> bool:
    """Send `message` right after the current response has gone out (MAIL_SEND_AFTER_REQUEST).

    Returns False (and does nothing) outside a request or when the setting is off: the message stays
    queued for `flask outbox send`. A message of a request that ends up rolled back is never sent.
    """
    if not has_request_context() or not current_app.config.get("MAIL_SEND_AFTER_REQUEST"):
        return False
    if message.id is None:
        db.session.flush()
    g.setdefault(_SEND_SOON, []).append(message.id)
    return True


def register(app: Flask) -> None:
    """Make `send_soon` work: after each response that asked for it, send those messages once it is closed."""

    @app.after_request
    def send_after_response(response):
        ids = g.pop(_SEND_SOON, None)
        if ids:
            response.call_on_close(partial(_send_after_response, app, tuple(ids)))
        return response


def _send_after_response(app: Flask, ids: tuple[int, ...]) -> None:
    """Send `ids` in a fresh app context; a failure stays in the outbox and is only logged."""
    with app.app_context():
        try:
            report = send_queued(ids=ids)
        except Exception:  # noqa: BLE001 - the response is gone; `flask outbox send` picks the messages up
            db.session.rollback()
            logger.exception("outbox: sending after the response failed")
            return
        if report.connection_error:
            logger.warning("outbox: sending after the response: %s", report.connection_error)


# --- reading ------------------------------------------------------------------------------------------------


def _filtered(stmt, status: str | None, kind: str | None):
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    return stmt


def list_messages(*, status: str | None = None, kind: str | None = None, page: int = 1,
                  per_page: int = PER_PAGE) -> Page:
    """Messages, newest first, optionally of one status and one kind, one page at a time."""
    total = db.session.scalar(_filtered(select(func.count(OutboxMessage.id)), status, kind)) or 0
    page = page_number(page, total, per_page)
    items = list(db.session.scalars(_newest_first(status, kind).limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, number=page, per_page=per_page, total=total)


def recent_messages(*, status: str | None = None, kind: str | None = None, limit: int | None = None
                    ) -> list[OutboxMessage]:
    """Messages, newest first, optionally of one status and one kind: all of them or the `limit` newest."""
    stmt = _newest_first(status, kind)
    return list(db.session.scalars(stmt.limit(limit) if limit else stmt))


def _newest_first(status: str | None, kind: str | None):
    return _filtered(select(OutboxMessage), status, kind).order_by(OutboxMessage.created_at.desc(),
                                                                   OutboxMessage.id.desc())


def status_counts() -> dict[str, int]:
    """How many messages have each status (every status present, zero when none)."""
    counts = dict(db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    return {status: counts.get(status, 0) for status in OUTBOX_STATUSES}


def kinds() -> list[str]:
    """The kinds of message in the outbox (invitation, reminder, ...), sorted."""
    return list(db.session.scalars(select(OutboxMessage.kind).distinct().order_by(OutboxMessage.kind)))


def get_message(message_id: int) -> OutboxMessage | None:
    """One message, or None."""
    return db.session.get(OutboxMessage, message_id)
