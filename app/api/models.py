"""Personal API tokens: a user's named, revocable credentials for the JSON API (only the hash is stored)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import as_utc, utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User


class ApiToken(db.Model):
    """A personal API token of one user; the token itself is shown once and never stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: What the owner calls it ("Power BI report", "nightly export").
    name: Mapped[str] = mapped_column(String(100))
    #: sha256 hex of the token (app.api.tokens.hash_token).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The last four characters of the token, so its owner can tell tokens apart.
    hint: Mapped[str] = mapped_column(String(8), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Updated at most once a minute (app.api.services.LAST_USED_RESOLUTION).
    last_used_at: Mapped[datetime | None]
    #: None: valid until revoked.
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")

    def is_expired(self, now: datetime) -> bool:
        """True after the expiry time (never for a token without one)."""
        if self.expires_at is None:
            return False
        return as_utc(now) >= as_utc(self.expires_at)

    def state(self, now: datetime) -> str:
        """"active", "expired" or "revoked"."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.is_expired(now) else "active"

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} user={self.user_id}>"
