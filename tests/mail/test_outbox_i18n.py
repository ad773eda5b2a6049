"""The outbox in the reader's language: a name for every kind of message queued anywhere, and delivery errors
whose sentence is translated while the stored text stays technical."""

from __future__ import annotations

import re

from tests.conftest import EN, ROOT, RU, extract_csrf
from tests.mail.conftest import SmtpServer, free_port


def _queued_kinds() -> set[str]:
    """Every kind of message the application queues: the first argument of each `queue(...)` call in app/."""
    kinds = set()
    for path in (ROOT / "app").rglob("*.py"):
        kinds |= set(re.findall(r"\bqueue\(\s*[\"']([a-z_]+)[\"']", path.read_text(encoding="utf-8")))
    return kinds


def test_every_kind_of_message_queued_has_a_name(app_ctx):
    from app.mail.views import kind_label

    kinds = _queued_kinds()
    assert {"invitation", "reminder", "receipt", "clarification", "test"} <= kinds
    assert [kind for kind in sorted(kinds) if kind_label(kind) == kind] == []


def test_a_clarification_request_is_named_in_the_outbox(staff_client, make_message):
    make_message(kind="clarification")
    page = staff_client.get("/admin/outbox/", headers=EN).get_data(as_text=True)
    assert "<td>Clarification request</td>" in page
    russian = staff_client.get("/admin/outbox/", headers=RU).get_data(as_text=True)
    assert "<td>Запрос уточнений</td>" in russian and "<td>clarification</td>" not in russian


def test_a_messages_language_is_named_in_the_readers_language(staff_client, make_message):
    """In a Russian table a language is a value like any other: «Английский», not "English"."""
    message = make_message(locale="en")
    listing = staff_client.get("/admin/outbox/", headers=RU).get_data(as_text=True)
    detail = staff_client.get(f"/admin/outbox/{message.id}", headers=RU).get_data(as_text=True)
    for page in (listing, detail):
        assert "<td>Английский</td>" in page and ">English<" not in page.split("</header>", 1)[1]
    assert "<td>English</td>" in staff_client.get("/admin/outbox/", headers=EN).get_data(as_text=True)


def _send_now(client, headers: dict) -> str:
    """Press "Send now" and return the error it flashes."""
    token = extract_csrf(client.get("/admin/outbox/", headers=headers).get_data(as_text=True))
    page = client.post("/admin/outbox/send", data={"csrf_token": token}, headers=headers,
                       follow_redirects=True).get_data(as_text=True)
    assert 'class="flash flash-error">' in page
    return page.split('class="flash flash-error">', 1)[1].split("</p>", 1)[0]


def test_an_unreachable_server_is_reported_in_russian_and_stored_as_it_was(app, staff_client, make_message,
                                                                            monkeypatch):
    port = free_port()
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    message = make_message()
    flashed = _send_now(staff_client, RU)
    assert "unreachable" not in flashed
    assert f"Не удалось подключиться к почтовому серверу: SMTP-сервер 127.0.0.1:{port} недоступен: " \
           "ConnectionRefusedError" in flashed
    from app.extensions import db

    db.session.expire_all()
    stored = db.session.get(type(message), message.id)
    assert stored.last_error.startswith(f"SMTP server 127.0.0.1:{port} unreachable: ConnectionRefusedError")
    make_message()  # the first one waits: it was tried a moment ago
    english = _send_now(staff_client, EN)
    assert f"The mail server could not be reached: SMTP server 127.0.0.1:{port} unreachable: " \
           "ConnectionRefusedError" in english


def test_a_refused_sign_in_is_reported_in_russian(app, staff_client, make_message, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_USERNAME", "mailer")
    monkeypatch.setitem(app.config, "MAIL_PASSWORD", "secret-password")
    make_message()
    flashed = _send_now(staff_client, RU)
    assert f"Не удалось войти на 127.0.0.1:{smtp_server.port} как mailer: SMTPNotSupportedError" in flashed
    assert "sign-in to" not in flashed and "secret-password" not in flashed


def test_an_address_the_server_cannot_take_is_explained_in_russian(app_ctx, make_message, monkeypatch):
    from app.extensions import db
    from app.i18n import force_locale
    from app.mail import services
    from app.mail.errors import error_text

    server = SmtpServer(free_port(), enable_SMTPUTF8=False).start()
    try:
        for key, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": server.port}.items():
            monkeypatch.setitem(app_ctx.config, key, value)
        message = make_message(recipient="айгуль@example.org")
        services.send_queued()
    finally:
        server.stop()
    db.session.expire_all()
    stored = db.session.get(type(message), message.id).last_error
    assert stored.startswith(f"The SMTP server 127.0.0.1:{server.port} does not support SMTPUTF8")
    with force_locale("en"):
        assert error_text(stored) == stored
    with force_locale("ru"):
        assert error_text(stored) == (
            f"SMTP-сервер 127.0.0.1:{server.port} не поддерживает SMTPUTF8, а он нужен для адреса "
            "айгуль@example.org (до знака @ есть символы не из ASCII). Используйте сервер с поддержкой SMTPUTF8 "
            "или другой адрес.")
