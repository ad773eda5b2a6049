"""A real SMTP server (aiosmtpd) started in-process on a free port of 127.0.0.1, and an outbox row factory."""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass
from email import message_from_string, policy
from email.message import EmailMessage

import pytest


@dataclass
class Received:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: list[str]
    mail_options: list[str]
    raw: bytes
    message: EmailMessage


class RecordingHandler:
    """Accepts every message and keeps it; answers RCPT with `refuse[address]` for the addresses listed there."""

    def __init__(self):
        self.received: list[Received] = []
        self.refuse: dict[str, str] = {}
        self.delay = 0.0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        raw = envelope.original_content  # bytes; UTF-8 in headers only with SMTPUTF8 (decoded as such below)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), list(envelope.mail_options),
                                          raw, message_from_string(raw.decode("utf-8"), policy=policy.default)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on (so also a port that refuses connections)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """An aiosmtpd server that can be stopped and started again on the same port."""

    def __init__(self, port: int, **smtp_options):
        self.port = port
        self.handler = RecordingHandler()
        self.options = {"enable_SMTPUTF8": True, **smtp_options}
        self.controller = None

    @property
    def received(self) -> list[Received]:
        """Messages received so far (a copy)."""
        with self.handler.lock:
            return list(self.handler.received)

    def start(self) -> SmtpServer:
        """Listen (again) on the port."""
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until `start`."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server(app_ctx, monkeypatch):
    """A running SMTP server with SMTPUTF8; the app's MAIL_SERVER and MAIL_PORT point at it during the test."""
    server = SmtpServer(free_port()).start()
    monkeypatch.setitem(app_ctx.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app_ctx.config, "MAIL_PORT", server.port)
    yield server
    server.stop()


@pytest.fixture
def make_message(app_ctx):
    """Factory: make_message(**overrides) adds a queued outbox row (committed) and returns it."""
    from app.extensions import db
    from app.mail.models import OutboxMessage

    counter = iter(range(1, 10_000))

    def factory(**overrides):
        n = next(counter)
        values = {
            "kind": "invitation", "recipient": f"contact{n}@example.org", "recipient_name": "Айгуль Сапарова",
            "locale": "ru", "subject": f"Анкета для агентства № {n}: оценка потребностей",
            "body_text": f"Здравствуйте!\nОткройте анкету по ссылке № {n}.\n",
            "body_html": f"<p>Здравствуйте!</p><p>Откройте <a href=\"https://example.org/{n}\">анкету</a>.</p>",
            "status": "queued",
        }
        values.update(overrides)
        message = OutboxMessage(**values)
        db.session.add(message)
        db.session.commit()
        return message

    return factory
