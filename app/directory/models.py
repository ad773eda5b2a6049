"""The partner directory: countries, agencies and their contact persons."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import utcnow
from app.extensions import db

#: Kinds of agency, as codes (labels are translated where they are shown: directory.labels).
AGENCY_TYPES = (
    "interior",          # ministry of internal affairs, police
    "prosecutor",        # prosecutor general's office
    "fiu",               # financial intelligence unit
    "security",          # state security service / committee
    "border",            # border service
    "customs",           # customs service
    "emergency",         # emergency services
    "justice",           # ministry of justice, courts
    "foreign_affairs",   # ministry of foreign affairs
    "regional",          # regional body, e.g. RATS SCO
    "other",
)


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


class Agency(db.Model):
    """A national body (or a regional one, with no country) that answers questionnaires."""

    __tablename__ = "agencies"
    __table_args__ = (UniqueConstraint("country_id", "acronym"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None for a regional body that belongs to no single country.
    country_id: Mapped[int | None] = mapped_column(ForeignKey("countries.id", ondelete="RESTRICT"), index=True)
    #: {"en": "Ministry of Internal Affairs", "ru": "Министерство внутренних дел", "kk": ...}
    names: Mapped[dict] = mapped_column(JSON, default=dict)
    #: Short name, unique within a country (with the country, the key used by the Excel import).
    acronym: Mapped[str] = mapped_column(String(40))
    #: One of AGENCY_TYPES.
    kind: Mapped[str] = mapped_column(String(40), default="other", index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    country: Mapped[Country | None] = relationship(lazy="joined")
    contacts: Mapped[list[Contact]] = relationship(back_populates="agency", order_by="Contact.name")

    def name(self, locale: str | None = None) -> str:
        """The name in `locale`, falling back to English, Russian, then the acronym."""
        if locale and self.names.get(locale):
            return self.names[locale]
        return self.names.get("en") or self.names.get("ru") or self.acronym

    @property
    def country_code(self) -> str:
        """The country's ISO code, or "" for a regional body."""
        return self.country.code if self.country else ""

    def __repr__(self) -> str:
        return f"<Agency {self.country_code or '--'}/{self.acronym}>"


class Contact(db.Model):
    """A contact person (focal point) of an agency; the person a magic link is sent to."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(200), default="")
    #: Stored as normalised by email-validator and lower-cased; unique: the key used by the Excel import.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str] = mapped_column(String(60), default="")
    #: Language of the e-mails and pages this person gets ("ru", "en", ...).
    locale: Mapped[str] = mapped_column(String(10), default="ru")
    is_focal_point: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    #: The respondent account created when this person first opens a magic link.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency] = relationship(back_populates="contacts", lazy="joined")

    def __repr__(self) -> str:
        return f"<Contact {self.id} agency={self.agency_id}>"
