"""Sending the outbox over a real SMTP server: delivery, back-off, bounces, give-up, no double sending."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tests.mail.conftest import SmtpServer, free_port


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive UTC datetimes, PostgreSQL aware ones."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _fresh(message):
    from app.extensions import db

    db.session.expire_all()
    return db.session.get(type(message), message.id)


def _send(app, *args):
    return app.test_cli_runner().invoke(args=["outbox", "send", *args])


def test_cli_send_delivers_text_and_html_with_russian_headers(app_ctx, smtp_server, make_message):
    ru = make_message()
    en = make_message(locale="en", subject="Questionnaire for your agency", recipient_name="",
                      body_text="Hello,\nplease answer.\n", body_html="<p>Hello, please answer.</p>")
    result = _send(app_ctx)
    assert result.exit_code == 0, result.output
    assert f"{ru.id}\t{ru.recipient}\tsent" in result.output
    assert f"{en.id}\t{en.recipient}\tsent" in result.output
    assert "Sent: 2." in result.output
    received = {r.rcpt_tos[0]: r for r in smtp_server.received}
    assert sorted(received) == sorted([ru.recipient, en.recipient]) and len(smtp_server.received) == 2

    got = received[ru.recipient]
    mail = got.message
    assert got.mail_from == "needs-assessment@localhost"
    assert mail["Subject"] == ru.subject
    assert mail["To"].addresses[0].display_name == "Айгуль Сапарова"
    assert mail["To"].addresses[0].addr_spec == ru.recipient
    assert mail["Message-ID"].startswith("<") and mail["Message-ID"].endswith("@localhost>")
    assert mail["Date"].datetime.tzinfo is not None
    assert mail["Content-Language"] == "ru" and mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_type() == "multipart/alternative"
    assert mail.get_body(("plain",)).get_content().replace("\r\n", "\n") == ru.body_text
    assert mail.get_body(("html",)).get_content().strip() == ru.body_html
    # No SMTPUTF8 was needed: the raw message is ASCII, the Russian subject encoded per RFC 2047.
    assert "SMTPUTF8" not in got.mail_options
    assert got.raw.isascii() and b"Subject: =?utf-8?" in got.raw

    for message in (ru, en):
        stored = _fresh(message)
        assert stored.status == "sent" and stored.attempts == 1 and stored.last_error is None
        assert stored.sent_at is not None and stored.next_attempt_at is None


def test_unreachable_server_keeps_messages_queued_then_sends_after_the_back_off(app_ctx, smtp_server, make_message):
    from app.mail import services

    first, second = make_message(), make_message()
    smtp_server.stop()
    before = datetime.now(UTC)
    result = _send(app_ctx)
    assert result.exit_code == 1, result.output
    line = f"{first.id}\t{first.recipient}\tqueued\tSMTP server 127.0.0.1:{smtp_server.port} unreachable"
    assert line in result.output
    assert "The mail server could not be reached" in result.output
    for message in (first, second):
        stored = _fresh(message)
        assert stored.status == "queued" and stored.attempts == 1
        assert "ConnectionRefusedError" in stored.last_error
        assert _aware(stored.next_attempt_at) > before + timedelta(seconds=50)

    again = _send(app_ctx)  # nothing is due yet: no attempt, no error
    assert again.exit_code == 0 and "No message was waiting to be sent." in again.output
    assert _fresh(first).attempts == 1

    smtp_server.start()
    report = services.send_queued(now=datetime.now(UTC) + timedelta(minutes=2))
    assert [r.status for r in report.results] == ["sent", "sent"] and not report.unreachable
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == sorted([first.recipient, second.recipient])
    stored = _fresh(first)
    assert stored.status == "sent" and stored.attempts == 2 and stored.last_error is None


def test_back_off_grows_and_max_attempts_gives_failed(app_ctx, make_message, monkeypatch):
    from app.mail import services

    monkeypatch.setitem(app_ctx.config, "MAIL_PORT", free_port())  # nobody listens there
    monkeypatch.setitem(app_ctx.config, "MAIL_MAX_ATTEMPTS", 4)
    message = make_message()
    now = datetime.now(UTC)
    waits = []
    for _ in range(3):
        report = services.send_queued(now=now)
        assert report.unreachable and [r.status for r in report.results] == ["queued"]
        stored = _fresh(message)
        waits.append(_aware(stored.next_attempt_at) - _aware(stored.last_attempt_at))
        now = _aware(stored.next_attempt_at)
    assert waits == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15)]
    assert services.send_queued(now=now - timedelta(seconds=1)).results == []  # not due a second early
    report = services.send_queued(now=now)
    assert [r.status for r in report.results] == ["failed"]
    stored = _fresh(message)
    assert stored.status == "failed" and stored.attempts == 4 and stored.next_attempt_at is None
    assert "ConnectionRefusedError" in stored.last_error
    assert services.send_queued(now=now + timedelta(days=1)).results == []  # never tried again


def test_back_off_schedule():
    from app.mail.services import backoff

    assert [backoff(n) for n in range(1, 8)] == [timedelta(minutes=m) for m in (1, 5, 15, 60, 60, 60, 60)]


def test_recipient_refused_with_550_bounces_and_450_is_retried(app_ctx, smtp_server, make_message):
    from app.mail import services

    smtp_server.handler.refuse = {"gone@example.org": "550 5.1.1 <gone@example.org>: Recipient address rejected",
                                  "busy@example.org": "450 4.2.1 Mailbox busy, try again later"}
    gone = make_message(recipient="gone@example.org")
    busy = make_message(recipient="busy@example.org")
    fine = make_message()
    report = services.send_queued()
    assert {r.message_id: r.status for r in report.results} == {gone.id: "bounced", busy.id: "queued",
                                                                 fine.id: "sent"}
    stored = _fresh(gone)
    assert stored.status == "bounced" and stored.attempts == 1 and stored.next_attempt_at is None
    assert "550 5.1.1 <gone@example.org>: Recipient address rejected" in stored.last_error
    stored = _fresh(busy)
    assert stored.status == "queued" and "450 4.2.1 Mailbox busy" in stored.last_error
    assert [r.rcpt_tos for r in smtp_server.received] == [[fine.recipient]]  # one connection served all three


def test_non_ascii_local_part_uses_smtputf8(app_ctx, smtp_server, make_message):
    from app.mail import services

    message = make_message(recipient="айгуль@пример.рф")
    assert [r.status for r in services.send_queued().results] == ["sent"]
    (got,) = smtp_server.received
    assert "SMTPUTF8" in got.mail_options
    assert got.rcpt_tos == ["айгуль@xn--e1afmkfd.xn--p1ai"]
    assert got.message["To"].addresses[0].username == "айгуль"
    assert got.message["Subject"] == message.subject


def test_server_without_smtputf8_gives_a_clear_error(app_ctx, make_message, monkeypatch):
    from app.mail import services

    server = SmtpServer(free_port(), enable_SMTPUTF8=False).start()
    try:
        monkeypatch.setitem(app_ctx.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app_ctx.config, "MAIL_PORT", server.port)
        international = make_message(recipient="айгуль@example.org")
        ascii_domain_idn = make_message(recipient="aigul@пример.рф")
        report = services.send_queued()
    finally:
        server.stop()
    assert {r.message_id: r.status for r in report.results} == {international.id: "failed",
                                                                 ascii_domain_idn.id: "sent"}
    assert "does not support SMTPUTF8" in _fresh(international).last_error
    assert [r.rcpt_tos for r in server.received] == [["aigul@xn--e1afmkfd.xn--p1ai"]]


def test_unusable_address_fails_without_contacting_the_server(app_ctx, smtp_server, make_message):
    from app.mail import services

    message = make_message(recipient="not an address")
    assert [r.status for r in services.send_queued().results] == ["failed"]
    assert "not a usable e-mail address" in _fresh(message).last_error
    assert smtp_server.received == []


def test_two_send_runs_do_not_send_a_message_twice(app_ctx, smtp_server, make_message):
    from app.mail import services

    messages = [make_message() for _ in range(3)]
    assert len(services.send_queued().results) == 3
    assert services.send_queued(now=datetime.now(UTC) + timedelta(days=1)).results == []
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == sorted(m.recipient for m in messages)


def test_concurrent_send_runs_share_the_queue_without_duplicates(app, app_ctx, smtp_server, make_message):
    from app.mail import services

    messages = [make_message() for _ in range(12)]
    smtp_server.handler.delay = 0.02  # keep the runs overlapping
    reports, errors = [], []
    start = threading.Barrier(3)

    def run():
        try:
            with app.app_context():
                start.wait()
                reports.append(services.send_queued())
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    sent_ids = sorted(r.message_id for report in reports for r in report.results)
    assert sent_ids == sorted(m.id for m in messages)
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == sorted(m.recipient for m in messages)
    assert all(_fresh(m).status == "sent" and _fresh(m).attempts == 1 for m in messages)


def test_a_stale_claim_is_refused(app_ctx, make_message):
    from app.mail import services

    message = make_message()
    now = datetime.now(UTC)
    assert services._claim(message.id, 0, now) is True
    assert services._claim(message.id, 0, now) is False  # a second process that read attempts=0 gets nothing
    stored = _fresh(message)
    assert stored.attempts == 1 and _aware(stored.next_attempt_at) == now + services.SENDING_LEASE
    # While it is being sent, neither a scheduled run nor "Send now" takes it; after the lease, it is retried.
    assert services.send_queued(now=now + timedelta(minutes=5)).results == []
    assert services.send_queued(now=now + timedelta(minutes=5), ignore_backoff=True).results == []
    assert [r.message_id for r in services.send_queued(now=now + services.SENDING_LEASE).results] == [message.id]


def test_limit_sends_the_oldest_first(app_ctx, smtp_server, make_message):
    messages = [make_message() for _ in range(3)]
    result = _send(app_ctx, "--limit", "2")
    assert result.exit_code == 0
    assert [r.rcpt_tos[0] for r in smtp_server.received] == [m.recipient for m in messages[:2]]
    assert _fresh(messages[2]).status == "queued"


def test_sign_in_to_the_server_and_a_refused_password_is_not_recorded(app_ctx, make_message, monkeypatch):
    from aiosmtpd.smtp import AuthResult

    from app.mail import services

    def authenticator(server, session, envelope, mechanism, auth_data):
        def text(value):
            return value.decode() if isinstance(value, bytes) else value

        ok = text(auth_data.login) == "mailer" and text(auth_data.password) == "right-password"
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

    # AUTH is offered but not required, so aiosmtpd does not warn about AUTH without TLS.
    server = SmtpServer(free_port(), authenticator=authenticator, auth_require_tls=False).start()
    monkeypatch.setitem(app_ctx.config, "MAIL_TIMEOUT", 5)
    try:
        for key, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": server.port, "MAIL_USERNAME": "mailer",
                           "MAIL_PASSWORD": "wrong-password"}.items():
            monkeypatch.setitem(app_ctx.config, key, value)
        message = make_message()
        report = services.send_queued()
        assert report.unreachable
        stored = _fresh(message)
        assert stored.status == "queued" and "SMTPAuthenticationError: 535" in stored.last_error
        assert "sign-in to 127.0.0.1" in stored.last_error and "wrong-password" not in stored.last_error
        monkeypatch.setitem(app_ctx.config, "MAIL_PASSWORD", "right-password")
        report = services.send_queued(now=datetime.now(UTC) + timedelta(minutes=2))
        assert [r.status for r in report.results] == ["sent"]
    finally:
        server.stop()
    assert len(server.received) == 1


@pytest.mark.parametrize("enabled", [True, False])
def test_send_soon_sends_after_the_response_is_closed(app, app_ctx, smtp_server, make_message, monkeypatch,
                                                      enabled):
    from app.mail import services

    monkeypatch.setitem(app.config, "MAIL_SEND_AFTER_REQUEST", enabled)
    message = make_message()
    with app.test_request_context("/anything"):
        assert services.send_soon(message) is enabled
        response = app.process_response(app.response_class("done"))  # runs the after-request hooks
        assert smtp_server.received == []  # nothing is sent before the response has gone out
        response.close()
    assert len(smtp_server.received) == (1 if enabled else 0)
    assert _fresh(message).status == ("sent" if enabled else "queued")


def test_send_soon_does_nothing_outside_a_request(app_ctx, make_message, monkeypatch):
    from app.mail import services

    monkeypatch.setitem(app_ctx.config, "MAIL_SEND_AFTER_REQUEST", True)
    assert services.send_soon(make_message()) is False


def test_send_after_request_failure_stays_in_the_outbox(app, app_ctx, make_message, monkeypatch):
    from app.mail import services

    monkeypatch.setitem(app.config, "MAIL_SEND_AFTER_REQUEST", True)
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    message = make_message()
    with app.test_request_context("/anything"):
        services.send_soon(message)
        app.process_response(app.response_class("done")).close()
    stored = _fresh(message)
    assert stored.status == "queued" and stored.attempts == 1 and "ConnectionRefusedError" in stored.last_error


def test_send_after_request_is_off_in_the_test_configuration(app):
    assert app.config["MAIL_SEND_AFTER_REQUEST"] is False


def test_cli_test_message(app_ctx, smtp_server):
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(args=["outbox", "test", "admin@example.org"])
    assert result.exit_code == 0, result.output
    assert "admin@example.org\tsent" in result.output
    (got,) = smtp_server.received
    assert got.message["Subject"] == "Test message from Needs Assessment"
    assert f"127.0.0.1:{smtp_server.port}" in got.message.get_body(("plain",)).get_content()
    assert "Test message from Needs Assessment" in got.message.get_body(("html",)).get_content()
    refused = runner.invoke(args=["outbox", "test", "no-at-sign"])
    assert refused.exit_code == 2 and "not a usable e-mail address" in refused.output


def test_cli_test_message_fails_with_exit_1_when_the_server_is_down(app_ctx, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "MAIL_PORT", free_port())
    result = app_ctx.test_cli_runner().invoke(args=["outbox", "test", "admin@example.org"])
    assert result.exit_code == 1 and "unreachable" in result.output


def test_cli_list(app_ctx, make_message, db_session):
    queued = make_message(subject="Первое")
    sent = make_message(subject="Второе")
    sent.status = "sent"
    db_session.commit()
    runner = app_ctx.test_cli_runner()
    lines = runner.invoke(args=["outbox", "list"]).output.splitlines()
    assert [line.split("\t")[0] for line in lines] == [str(sent.id), str(queued.id)]  # newest first
    assert "\tinvitation\tsent\t0\t" in lines[0] and lines[0].endswith("Второе")
    only_queued = runner.invoke(args=["outbox", "list", "--status", "queued"]).output.splitlines()
    assert len(only_queued) == 1 and only_queued[0].startswith(f"{queued.id}\t")
    assert runner.invoke(args=["outbox", "list", "--status", "nonsense"]).exit_code == 2


def test_retry_puts_a_message_back_and_is_audited(app_ctx, make_message, make_user, db_session):
    from sqlalchemy import select

    from app.core.models import AuditEvent
    from app.mail import services

    staff = make_user("staff")
    message = make_message(status="bounced", attempts=1, last_error="SMTPRecipientsRefused: 550 no such user")
    services.retry(message.id, actor=staff)
    db_session.commit()
    stored = _fresh(message)
    assert stored.status == "queued" and stored.attempts == 0 and stored.next_attempt_at is None
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "outbox.retried"))
    assert event.actor_id == staff.id and event.object_id == str(message.id)
    assert event.old_value["status"] == "bounced" and event.new_value == {"status": "queued", "attempts": 0}
    with pytest.raises(services.OutboxError):
        services.retry(message.id, actor=staff)  # already queued


def test_a_queued_email_whose_link_stopped_working_is_withdrawn_not_sent(app_ctx, db_session, smtp_server,
                                                                        make_version, make_agency, make_contact):
    """Invitations queued while the mail server was down: one link revoked meanwhile, one contact deactivated,
    one agency's reminder outrun by its submission. When the server is back only the still-wanted message goes
    out; the others are "withdrawn" with the reason (in the reader's language on the outbox page), and cannot be
    put back in the queue. They used to be delivered with links that opened "revoked" or "inactive" pages."""
    from sqlalchemy import select

    from app.campaigns import services as campaigns
    from app.i18n import force_locale
    from app.mail import services as mail
    from app.mail.errors import error_text
    from app.mail.models import OutboxMessage
    from app.responses.services import ensure_response

    mvd, afm = make_agency("KZ", "MVD"), make_agency("KZ", "AFM")
    revoked_contact = make_contact(mvd, email="revoked@example.org", locale="en")
    inactive_contact = make_contact(mvd, email="inactive@example.org", locale="en")
    make_contact(afm, email="afm@example.org", locale="ru")
    campaign = campaigns.create_campaign("Round 1", make_version(), agencies=[mvd, afm])
    campaigns.set_status(campaign, "open")
    issued = {i.contact.email: i for i in campaigns.invite(campaign)}
    campaigns.revoke(issued[revoked_contact.email].invitation)
    inactive_contact.is_active = False
    reminder = campaigns.queue_reminder(issued["afm@example.org"].invitation).reminder_message_id
    ensure_response(campaign, afm).status = "submitted"
    db_session.commit()

    report = mail.send_queued()
    db_session.expire_all()
    outcome = {m.recipient + (" reminder" if m.id == reminder else ""): (m.status, m.last_error)
               for m in db_session.scalars(select(OutboxMessage))}
    assert outcome == {
        "revoked@example.org": ("withdrawn", "Not sent: its link was revoked."),
        "inactive@example.org": ("withdrawn", "Not sent: the contact, the agency or the contact's account is no "
                                              "longer active."),
        "afm@example.org": ("sent", None),
        "afm@example.org reminder": ("withdrawn", "Not sent: the agency has submitted its answers.")}
    assert [r.rcpt_tos for r in smtp_server.received] == [["afm@example.org"]]
    assert sorted(r.status for r in report.results) == ["sent", "withdrawn", "withdrawn", "withdrawn"]
    assert report.summary() == ("Sent: 1. To be retried later: 0. Failed: 0. Bounced: 0. Withdrawn, no longer "
                                "wanted: 3 (the outbox gives each one's reason).")  # they were left out of it
    with force_locale("ru"):
        assert error_text("Not sent: its link was revoked.") != "Not sent: its link was revoked."
    withdrawn = db_session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "revoked@example.org"))
    withdrawn.status = "failed"  # as if it had failed: "Retry" still refuses a dead link
    db_session.commit()
    with pytest.raises(mail.OutboxError, match="not put back in the queue: Not sent: its link was revoked."):
        mail.retry(withdrawn.id)
