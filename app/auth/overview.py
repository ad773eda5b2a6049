"""Figures for the staff overview page."""

from __future__ import annotations

from sqlalchemy import func, select

from app.auth.models import User
from app.directory.models import Country
from app.extensions import db


def staff_overview() -> dict:
    """Counts of what the installation holds."""
    users_by_role = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    return {
        "users_by_role": users_by_role,
        "countries": db.session.scalar(select(func.count()).select_from(Country)) or 0,
    }
