"""Countries of the partner directory (agencies and contacts build on them)."""

from __future__ import annotations

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class Country(db.Model):
    """A partner country: ISO 3166-1 alpha-2 code and its name in several languages."""

    __tablename__ = "countries"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(2), unique=True)
    #: {"en": "Kazakhstan", "ru": "Казахстан", ...}
    names: Mapped[dict] = mapped_column(JSON, default=dict)

    def name(self, locale: str | None = None) -> str:
        """The name in `locale`, falling back to English, then to the code."""
        if locale and self.names.get(locale):
            return self.names[locale]
        return self.names.get("en") or self.code

    def __repr__(self) -> str:
        return f"<Country {self.code}>"
