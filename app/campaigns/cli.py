"""`flask campaigns ...`: create, list, invite, remind."""

from __future__ import annotations

from flask.cli import AppGroup

campaigns_cli = AppGroup("campaigns", help="Campaigns, invitations and reminders.")
