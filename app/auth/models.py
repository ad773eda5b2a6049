"""User accounts and the countries an expert may see."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.directory.models import Country

ROLES = ("admin", "staff", "expert", "respondent")

#: Countries an expert is assigned to (their whole scope).
expert_countries = Table(
    "expert_countries",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("country_id", ForeignKey("countries.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    """A person who signs in: admin, staff, expert (scoped to countries) or respondent."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased, so uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), index=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    is_active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: Raised when the account is deactivated: its sessions of before end for good (reactivated, they stay over).
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    countries: Mapped[list[Country]] = relationship(secondary=expert_countries, lazy="selectin")

    def get_id(self) -> str:
        """Flask-Login identity: the id plus a fragment of the password hash, so a reset ends old sessions, and
        the session generation once raised, so a deactivation does too (sessions of before it never come back)."""
        generation = f":{self.session_generation}" if self.session_generation else ""
        return f"{self.id}:{(self.password_hash or '')[-8:]}{generation}"

    def has_role(self, *roles: str) -> bool:
        """True when the user's role is one of `roles`."""
        return self.role in roles

    @property
    def country_codes(self) -> list[str]:
        """ISO codes of the countries an expert is assigned to."""
        return sorted(c.code for c in self.countries)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"
