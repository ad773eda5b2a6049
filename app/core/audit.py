"""Writing to the append-only audit log."""

from __future__ import annotations

from typing import Any

from app.core.models import AuditEvent
from app.extensions import db


def record(
    action: str,
    *,
    actor=None,
    object_type: str,
    object_id: Any = None,
    old: Any = None,
    new: Any = None,
    channel: str = "web",
    details: str | None = None,
) -> AuditEvent:
    """Add one audit event to the session (the caller commits with the action it describes)."""
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", actor),
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        old_value=old,
        new_value=new,
        channel=channel,
        details=details,
    )
    db.session.add(event)
    return event
