"""The append-only audit log and shared column helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


def utcnow() -> datetime:
    """Current time in UTC (timezone-aware); used as a callable column default."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A time in UTC, aware: a naive one is taken as UTC (SQLite gives back naive datetimes, stored in UTC), an
    aware one in another zone is converted."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class AuditEvent(db.Model):
    """One thing that happened: who, when, what, to which object, old and new values, through which channel."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: The user who acted; None for the system (CLI without a user, scheduled jobs).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: Dotted verb such as "user.created", "answer.changed", "campaign.opened".
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    #: "web", "autosave", "workbook", "cli", "api", "system".
    channel: Mapped[str] = mapped_column(String(20), default="web")
    old_value: Mapped[Any | None] = mapped_column(JSON)
    new_value: Mapped[Any | None] = mapped_column(JSON)
    details: Mapped[str | None] = mapped_column(Text)


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(mapper, connection, target):  # pragma: no cover - guard
    raise RuntimeError("audit events are append-only")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(mapper, connection, target):  # pragma: no cover - guard
    raise RuntimeError("audit events are append-only")
