"""Comments on questions, clarification requests to agencies, and experts' ratings of indicators."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User


class Comment(db.Model):
    """A reviewer's comment on one question of a response (internal: respondents never see comments)."""

    __tablename__ = "review_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(80))
    #: The comment this one answers (threads).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("review_comments.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")


class Clarification(db.Model):
    """A question an expert asked the agency to clarify, with the agency's reply and the answer before/after."""

    __tablename__ = "clarifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(80))
    message: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The stored answer when the clarification was requested (to show old -> new after resubmission).
    value_before: Mapped[Any | None] = mapped_column(JSON)
    #: The agency's reply to the request (optional text besides changing the answer).
    reply: Mapped[str] = mapped_column(Text, default="")
    replied_at: Mapped[datetime | None]
    #: Set when the agency resubmits: the request is answered.
    closed_at: Mapped[datetime | None]
    value_after: Mapped[Any | None] = mapped_column(JSON)

    requested_by: Mapped[User | None] = relationship(lazy="joined")


class ExpertRating(db.Model):
    """An expert's level for one indicator of one country in one campaign, with a rationale. Every rating is
    kept; the latest counts as the expert figure."""

    __tablename__ = "expert_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[str] = mapped_column(String(80))
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    level: Mapped[float]
    rationale: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    expert: Mapped[User | None] = relationship(lazy="joined")
