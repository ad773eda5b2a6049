"""Materialized scores: per response x indicator, and per campaign x country x indicator / area.

Written by app.scoring.store in the same transaction as the action that changes them (submission,
return, validation, an expert rating); dashboards and reports read these tables, never raw answers.
The engine (app.scoring.engine) stays pure: this module is the only place scores meet the database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import utcnow
from app.extensions import db


class ResponseScore(db.Model):
    """The self-assessed level and coverage of one indicator in one response."""

    __tablename__ = "response_scores"

    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True)
    indicator_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    level: Mapped[float | None]
    coverage: Mapped[float | None]
    answered_weight: Mapped[float] = mapped_column(default=0.0)
    total_weight: Mapped[float] = mapped_column(default=0.0)


class ResponseAreaScore(db.Model):
    """The self-assessed level and coverage of one area in one response; area "*" is the response's overall
    level (areas weighted by their weight). Read by the dashboards' spread of agency levels."""

    __tablename__ = "response_area_scores"

    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True)
    area_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    level: Mapped[float | None]
    coverage: Mapped[float | None]


class CountryScore(db.Model):
    """One indicator of one country in one campaign: self-assessed, expert, assessed, target, gap, priority."""

    __tablename__ = "country_scores"
    __table_args__ = (UniqueConstraint("campaign_id", "country_id", "indicator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id", ondelete="CASCADE"), index=True)
    indicator_id: Mapped[str] = mapped_column(String(80))
    area_id: Mapped[str] = mapped_column(String(80))
    self_assessed: Mapped[float | None]
    expert: Mapped[float | None]
    assessed: Mapped[float | None]
    target: Mapped[float | None]
    gap: Mapped[float | None]
    priority: Mapped[float | None]
    coverage: Mapped[float | None]
    agencies: Mapped[int] = mapped_column(default=0)
    agencies_with_level: Mapped[int] = mapped_column(default=0)
    ratings: Mapped[int] = mapped_column(default=0)
    disagreement: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CountryAreaScore(db.Model):
    """One area of one country in one campaign (roll-up of its indicators)."""

    __tablename__ = "country_area_scores"
    __table_args__ = (UniqueConstraint("campaign_id", "country_id", "area_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    country_id: Mapped[int] = mapped_column(ForeignKey("countries.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[str] = mapped_column(String(80))
    self_assessed: Mapped[float | None]
    expert: Mapped[float | None]
    assessed: Mapped[float | None]
    target: Mapped[float | None]
    gap: Mapped[float | None]
    coverage: Mapped[float | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
