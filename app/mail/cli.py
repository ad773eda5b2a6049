"""`flask outbox ...`: send queued e-mails."""

from __future__ import annotations

from flask.cli import AppGroup

outbox_cli = AppGroup("outbox", help="The e-mail outbox.")
