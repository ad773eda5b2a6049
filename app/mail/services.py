"""Queue e-mails in the outbox (rendered in the recipient's language) and send them over SMTP.

`queue` only adds a row to the session: the message is committed together with the action that
caused it, so it cannot be lost or sent for an action that was rolled back.
"""

from __future__ import annotations

from flask import render_template

from app.extensions import db
from app.i18n import force_locale
from app.mail.models import OutboxMessage


def render_message(template: str, locale: str, context: dict) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of `mail/<template>.{subject.txt,txt,html}` rendered in `locale`."""
    with force_locale(locale):
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
