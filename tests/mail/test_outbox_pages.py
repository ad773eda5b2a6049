"""The outbox admin pages: list, filters, pages, one message, retry, send now, and who may open them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import extract_csrf, sign_in
from tests.mail.conftest import free_port

EN = {"Accept-Language": "en"}


def _fresh(message):
    from app.extensions import db

    db.session.expire_all()
    return db.session.get(type(message), message.id)


def _count(page: str, label: str) -> int:
    match = re.search(rf"<dt>{label}</dt>\s*<dd><a [^>]*>(\d+)</a></dd>", page)
    assert match, f"no count for {label}"
    return int(match.group(1))


def _rows(page: str) -> int:
    return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0].count("<tr>") if "<tbody>" in page else 0


@pytest.fixture
def staff_client(client, make_user):
    """A client signed in as staff."""
    sign_in(client, make_user("staff").email)
    return client


def test_list_shows_messages_with_status_error_and_counts(staff_client, make_message):
    make_message(recipient="waiting@example.org", subject="Анкета: ожидает")
    make_message(recipient="done@example.org", status="sent", attempts=1, sent_at=datetime.now(UTC))
    make_message(recipient="gone@example.org", status="bounced", attempts=1, kind="reminder",
                 last_error="SMTPRecipientsRefused: 550 5.1.1 No such user here")
    response = staff_client.get("/admin/outbox/", headers=EN)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "E-mail outbox" in page
    for text in ("waiting@example.org", "Анкета: ожидает", "done@example.org", "gone@example.org",
                 "SMTPRecipientsRefused: 550 5.1.1 No such user here", "Invitation", "Reminder", "Bounced"):
        assert text in page
    assert [_count(page, label) for label in ("Queued", "Sent", "Failed", "Bounced")] == [1, 1, 0, 1]
    assert page.index("gone@example.org") < page.index("done@example.org") < page.index("waiting@example.org")
    assert "3 messages" in page


def test_filters_by_status_and_kind(staff_client, make_message):
    make_message(recipient="queued-invitation@example.org")
    make_message(recipient="failed-invitation@example.org", status="failed", last_error="TimeoutError: timed out")
    make_message(recipient="failed-reminder@example.org", status="failed", kind="reminder")
    failed = staff_client.get("/admin/outbox/?status=failed", headers=EN).get_data(as_text=True)
    assert "failed-invitation@example.org" in failed and "failed-reminder@example.org" in failed
    assert "queued-invitation@example.org" not in failed and _rows(failed) == 2
    both = staff_client.get("/admin/outbox/?status=failed&kind=reminder", headers=EN).get_data(as_text=True)
    assert _rows(both) == 1 and "failed-reminder@example.org" in both
    assert '<option value="reminder" selected>' in both and '<option value="failed" selected>' in both
    nothing = staff_client.get("/admin/outbox/?status=sent", headers=EN).get_data(as_text=True)
    assert _rows(nothing) == 0 and "No message matches." in nothing
    ignored = staff_client.get("/admin/outbox/?status=nonsense&kind=nonsense", headers=EN).get_data(as_text=True)
    assert _rows(ignored) == 3


def test_pages_of_fifty(staff_client, make_message, db_session):
    from app.mail.models import OutboxMessage

    start = datetime(2026, 1, 1, tzinfo=UTC)
    db_session.add_all([OutboxMessage(kind="invitation", recipient=f"p{i}@example.org", locale="en",
                                      subject=f"Message {i}", body_text="x", created_at=start + timedelta(minutes=i))
                        for i in range(53)])
    db_session.commit()
    first = staff_client.get("/admin/outbox/", headers=EN).get_data(as_text=True)
    assert _rows(first) == 50 and "Page 1 of 2" in first and "p52@example.org" in first
    assert "p2@example.org" not in first and 'rel="next"' in first
    second = staff_client.get("/admin/outbox/?page=2", headers=EN).get_data(as_text=True)
    assert _rows(second) == 3 and "p0@example.org" in second and "Page 2 of 2" in second
    beyond = staff_client.get("/admin/outbox/?page=99", headers=EN).get_data(as_text=True)
    assert "Page 2 of 2" in beyond


def test_message_page_shows_headers_text_and_html_safely(staff_client, make_message):
    message = make_message(body_html='<p>Здравствуйте</p><script>alert("x")</script>',
                           last_error="SMTPServerDisconnected: Connection unexpectedly closed")
    response = staff_client.get(f"/admin/outbox/{message.id}", headers=EN)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for text in (message.subject, message.recipient, "Айгуль Сапарова", "Откройте анкету по ссылке",
                 "needs-assessment@localhost", "SMTPServerDisconnected: Connection unexpectedly closed"):
        assert text in page
    assert "<script>alert" not in page  # only ever escaped
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert re.search(r"<iframe sandbox srcdoc=\"&lt;p&gt;", page)
    script_src = [p for p in response.headers["Content-Security-Policy"].split(";") if "script-src" in p][0]
    assert "unsafe-inline" not in script_src
    assert staff_client.get("/admin/outbox/999999").status_code == 404


def test_retry_from_the_page(staff_client, make_message):
    bounced = make_message(status="bounced", attempts=1, last_error="SMTPRecipientsRefused: 550 unknown")
    sent = make_message(status="sent", attempts=1)
    page = staff_client.get(f"/admin/outbox/{bounced.id}", headers=EN).get_data(as_text=True)
    assert "Put back in the queue" in page
    token = extract_csrf(page)
    response = staff_client.post(f"/admin/outbox/{bounced.id}/retry", data={"csrf_token": token}, headers=EN,
                                 follow_redirects=True)
    assert f"The message to {bounced.recipient} is back in the queue." in response.get_data(as_text=True)
    stored = _fresh(bounced)
    assert stored.status == "queued" and stored.attempts == 0
    refused = staff_client.post(f"/admin/outbox/{sent.id}/retry", data={"csrf_token": token}, headers=EN,
                                follow_redirects=True)
    assert "Only a failed or bounced message can be put back in the queue." in refused.get_data(as_text=True)
    assert _fresh(sent).status == "sent"
    assert staff_client.post("/admin/outbox/999999/retry", data={"csrf_token": token}).status_code == 404


def test_retry_sends_after_the_response_when_enabled(app, staff_client, make_message, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SEND_AFTER_REQUEST", True)
    failed = make_message(status="failed", attempts=8, last_error="TimeoutError: timed out")
    token = extract_csrf(staff_client.get("/admin/outbox/", headers=EN).get_data(as_text=True))
    response = staff_client.post(f"/admin/outbox/{failed.id}/retry", data={"csrf_token": token})
    assert response.status_code == 302
    response.close()
    assert [r.rcpt_tos for r in smtp_server.received] == [[failed.recipient]]
    stored = _fresh(failed)
    assert stored.status == "sent" and stored.attempts == 1 and stored.last_error is None


def test_send_now_sends_the_queue_and_says_so(staff_client, make_message, smtp_server):
    due = make_message()
    waiting = make_message(attempts=1, next_attempt_at=datetime.now(UTC) + timedelta(minutes=30),
                           last_error="TimeoutError: timed out")
    make_message(status="sent")
    token = extract_csrf(staff_client.get("/admin/outbox/", headers=EN).get_data(as_text=True))
    response = staff_client.post("/admin/outbox/send", data={"csrf_token": token}, headers=EN, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Sent: 2. To be retried later: 0. Failed: 0. Bounced: 0." in page and "flash-success" in page
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == sorted([due.recipient, waiting.recipient])
    again = staff_client.post("/admin/outbox/send", data={"csrf_token": token}, headers=EN, follow_redirects=True)
    assert "No message was waiting to be sent." in again.get_data(as_text=True)


def test_send_now_with_the_server_down(app, staff_client, make_message, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    message = make_message()
    token = extract_csrf(staff_client.get("/admin/outbox/", headers=EN).get_data(as_text=True))
    page = staff_client.post("/admin/outbox/send", data={"csrf_token": token}, headers=EN,
                             follow_redirects=True).get_data(as_text=True)
    assert "flash-error" in page and "The mail server could not be reached" in page
    assert "To be retried later: 1." in page
    stored = _fresh(message)
    assert stored.status == "queued" and stored.attempts == 1
    # Pressed again at once (say the server is fixed): the message was just tried and may still be on its way,
    # and the page says so rather than that no message was waiting.
    again = staff_client.post("/admin/outbox/send", data={"csrf_token": token}, headers=EN,
                              follow_redirects=True).get_data(as_text=True)
    assert "1 queued message was tried less than 10 minutes ago and may still be on its way" in again
    assert "No message was waiting" not in again


def test_admin_may_use_the_outbox(client, make_user, make_message):
    message = make_message()
    sign_in(client, make_user("admin").email)
    assert client.get("/admin/outbox/").status_code == 200
    assert client.get(f"/admin/outbox/{message.id}").status_code == 200


ROUTES = [("get", "/admin/outbox/"), ("get", "/admin/outbox/{id}"), ("post", "/admin/outbox/{id}/retry"),
          ("post", "/admin/outbox/send")]


@pytest.mark.parametrize("method, path", ROUTES)
def test_anonymous_visitors_are_sent_to_sign_in(client, make_message, method, path):
    message = make_message(status="failed")
    token = extract_csrf(client.get("/sign-in").get_data(as_text=True))
    url = path.format(id=message.id)
    response = client.get(url) if method == "get" else client.post(url, data={"csrf_token": token})
    assert response.status_code == 302 and "/sign-in?next=" in response.headers["Location"]
    assert _fresh(message).status == "failed"


@pytest.mark.parametrize("role", ["expert", "respondent"])
@pytest.mark.parametrize("method, path", ROUTES)
def test_experts_and_respondents_get_403(client, make_user, make_message, role, method, path):
    message = make_message(status="failed")
    queued = make_message()
    sign_in(client, make_user(role).email)
    token = extract_csrf(client.get("/account/password").get_data(as_text=True))
    url = path.format(id=message.id)
    response = client.get(url) if method == "get" else client.post(url, data={"csrf_token": token})
    assert response.status_code == 403
    assert _fresh(message).status == "failed" and _fresh(queued).attempts == 0
