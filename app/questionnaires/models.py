"""Questionnaires and their frozen versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import utcnow
from app.extensions import db


class Questionnaire(db.Model):
    """A questionnaire, identified by the `id` of its definition file (the slug)."""

    __tablename__ = "questionnaires"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The definition's `id`, e.g. "ct-capacity-needs-assessment"; stable across versions.
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[QuestionnaireVersion]] = relationship(
        back_populates="questionnaire", order_by="QuestionnaireVersion.number", cascade="all, delete-orphan"
    )

    @property
    def latest(self) -> QuestionnaireVersion | None:
        """The newest version."""
        return self.versions[-1] if self.versions else None


class QuestionnaireVersion(db.Model):
    """One frozen version of a questionnaire: never changed once stored."""

    __tablename__ = "questionnaire_versions"
    __table_args__ = (UniqueConstraint("questionnaire_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id", ondelete="CASCADE"), index=True)
    #: 1, 2, 3... within the questionnaire.
    number: Mapped[int]
    #: The canonical definition (schema.Definition.to_dict()). Deferred: loaded only when read, since versions
    #: come along (joined) with every campaign and response, and decoding a whole questionnaire for each row of
    #: a list of responses cost seconds; `services.definition_of` reads it only when its parse is not cached.
    definition: Mapped[dict] = mapped_column(JSON, deferred=True)
    #: sha256 of the canonical definition: a file whose content hash is unchanged makes no new version.
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    #: Where it was loaded from (file name), for people.
    source: Mapped[str] = mapped_column(String(300), default="")
    title: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="versions")

    @property
    def label(self) -> str:
        """"slug v3"."""
        return f"{self.questionnaire.slug} v{self.number}"
