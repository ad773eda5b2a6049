"""The e-mail outbox pages: every message with its status, one message in full, retry and "send now"."""

from __future__ import annotations

import re
from dataclasses import replace

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.models import User
from app.auth.permissions import require_role
from app.extensions import db
from app.i18n import _
from app.mail import services
from app.mail.errors import error_text
from app.mail.models import OUTBOX_STATUSES

bp = Blueprint("mail", __name__, url_prefix="/admin/outbox")
# Sending after the request (services.send_soon) needs an app-wide hook; the factory registers only the blueprint.
bp.record_once(lambda state: services.register(state.app))

#: The most messages "Send now" sends in one request (the rest stay queued for the next run).
SEND_NOW_LIMIT = 100

#: Badge class of each status (app.css).
STATUS_BADGES = {"queued": "warn", "sent": "ok", "failed": "bad", "bounced": "bad", "withdrawn": ""}


def status_labels() -> dict[str, str]:
    """The name people read for each status code."""
    # i18n: the state of an e-mail in the outbox (waiting, delivered, given up, refused by the recipient's server)
    return {"queued": _("Queued"), "sent": _("Sent"), "failed": _("Failed"), "bounced": _("Bounced"),
            # i18n: an e-mail not sent because its link stopped working before it went out
            "withdrawn": _("Withdrawn")}


def kind_label(kind: str) -> str:
    """The name people read for a kind of message (the code itself for a kind not known here).

    Every kind of message the application queues (the first argument of `services.queue(...)`) needs a label here.
    """
    # i18n: kinds of e-mail in the outbox
    labels = {"invitation": _("Invitation"), "reminder": _("Reminder"), "receipt": _("Receipt"),
              "clarification": _("Clarification request"), "test": _("Test message")}
    return labels.get(kind, kind)


#: A personal link's token in a stored e-mail (see app.campaigns.tokens: 32 random bytes, URL-safe).
_LINK_TOKEN = re.compile(r"(/i/)[A-Za-z0-9_-]{20,}")


def masked(text: str | None) -> str:
    """An e-mail as staff may read it in the outbox: personal links shown without their token, which would sign
    whoever reads it in as the agency's contact (the recipient's copy keeps it)."""
    return _LINK_TOKEN.sub(r"\1…", text or "")


def _common() -> dict:
    return {"statuses": OUTBOX_STATUSES, "status_labels": status_labels(), "kind_label": kind_label,
            "error_text": error_text, "badges": STATUS_BADGES, "retryable": services.RETRYABLE, "masked": masked}


@bp.route("/")
@require_role("staff", "admin")
def outbox():
    """Every message, newest first, filtered by status and kind, with the count of each status."""
    status = request.args.get("status") if request.args.get("status") in OUTBOX_STATUSES else None
    kinds = services.kinds()
    kind = request.args.get("kind") if request.args.get("kind") in kinds else None
    page = services.list_messages(status=status, kind=kind, page=request.args.get("page", 1, type=int))
    return render_template("mail/outbox.html", page=page, counts=services.status_counts(), status=status,
                           kind=kind, kinds=kinds, **_common())


@bp.route("/<int:message_id>")
@require_role("staff", "admin")
def message(message_id: int):
    """One message: its headers, delivery history, plain text and HTML."""
    found = services.get_message(message_id) or abort(404)
    author = db.session.get(User, found.created_by_id) if found.created_by_id else None
    return render_template("mail/outbox_message.html", message=found, author=author,
                           sender=current_app.config["MAIL_DEFAULT_SENDER"], **_common())


@bp.route("/<int:message_id>/retry", methods=["POST"])
@require_role("staff", "admin")
def retry(message_id: int):
    """Put a failed or bounced message back in the queue."""
    found = services.get_message(message_id) or abort(404)
    try:
        services.retry(found.id, actor=current_user)
    except services.OutboxError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        services.send_soon(found)
        db.session.commit()
        flash(_("The message to %(email)s is back in the queue.", email=found.recipient), "success")
    return redirect(url_for(".message", message_id=message_id))


@bp.route("/send", methods=["POST"])
@require_role("staff", "admin")
def send_now():
    """Send the queued messages now, including those waiting for a retry, and say what happened."""
    report = services.send_queued(limit=SEND_NOW_LIMIT, ignore_backoff=True)
    if report.unreachable:
        category = "error"
    elif not report.results:
        category = "info"
    elif report.count("sent") == len(report.results):
        category = "success"
    else:
        category = "warning"
    # The stored connection error stays technical; the sentence shown here is in the person's language.
    shown = replace(report, connection_error=error_text(report.connection_error) or None)
    flash(shown.summary(), category)
    return redirect(url_for(".outbox"))
