"""One response per agency and campaign, and its answers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.campaigns.models import Campaign
    from app.directory.models import Agency
    from app.questionnaires.models import QuestionnaireVersion

#: not_started -> in_progress -> submitted -> (returned -> in_progress) -> validated
RESPONSE_STATUSES = ("not_started", "in_progress", "submitted", "returned", "validated")


class Response(db.Model):
    """An agency's answer to one campaign, pinned to the questionnaire version it was started on."""

    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("campaign_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(20), default="not_started", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    #: Last time anyone changed an answer or the status.
    last_activity_at: Mapped[datetime | None]
    #: The latest submission (a response returned for clarification and submitted again has the later one).
    submitted_at: Mapped[datetime | None]
    #: The first submission: when the agency first answered (the progress dashboard's "submissions over time").
    first_submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    returned_at: Mapped[datetime | None]
    validated_at: Mapped[datetime | None]
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Required questions (visible under the current answers) and how many of them are answered.
    required_total: Mapped[int] = mapped_column(default=0)
    required_answered: Mapped[int] = mapped_column(default=0)
    #: Incremented on every change, for optimistic locking of status changes.
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}

    campaign: Mapped[Campaign] = relationship(lazy="joined")
    agency: Mapped[Agency] = relationship(lazy="joined")
    version: Mapped[QuestionnaireVersion] = relationship()
    answers: Mapped[list[Answer]] = relationship(back_populates="response", cascade="all, delete-orphan")

    @property
    def percent_required(self) -> int:
        """Percent of the required questions answered (100 when none is required)."""
        if not self.required_total:
            return 100 if self.status != "not_started" else 0
        from app.scoring.engine import percent

        return percent(self.required_answered / self.required_total)

    def __repr__(self) -> str:
        return f"<Response {self.id} {self.status}>"


class Answer(db.Model):
    """The stored answer to one question of a response (the value as normalised by its question type)."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(80))
    value: Mapped[Any | None] = mapped_column(JSON)
    #: 1 on the first save, +1 on every change: a save based on an older version is refused.
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    response: Mapped[Response] = relationship(back_populates="answers")

    def __repr__(self) -> str:
        return f"<Answer {self.response_id}/{self.question_id} v{self.version}>"
