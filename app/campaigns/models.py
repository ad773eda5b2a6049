"""Campaigns, the agencies they cover, and the magic-link invitations of their contacts."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import as_utc, utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.directory.models import Agency, Contact
    from app.mail.models import OutboxMessage
    from app.questionnaires.models import QuestionnaireVersion

CAMPAIGN_STATUSES = ("draft", "open", "closed")

#: The agencies a campaign asks.
campaign_agencies = Table(
    "campaign_agencies",
    db.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True),
)


class Campaign(db.Model):
    """One round of asking: a questionnaire version, the agencies asked, dates and status."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The name in every language that has none of its own in `name_translations`.
    name: Mapped[str] = mapped_column(String(200))
    #: {"ru": "Оценка потребностей 2026", ...}: the name in other languages, for pages and e-mails in them.
    name_translations: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    description: Mapped[str] = mapped_column(Text, default="")
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id", ondelete="RESTRICT"), index=True)
    opens_on: Mapped[date | None]
    #: The last day on which answers are expected (reminders and "days to deadline" count to it).
    deadline: Mapped[date | None]
    #: draft -> open -> closed (closed: read-only for respondents); see CAMPAIGN_STATUSES.
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    #: {"KZ": {"inv_unit": 3, ...}, ...}: per-country targets that override the definition's.
    target_overrides: Mapped[dict] = mapped_column(JSON, default=dict)
    #: The campaign this one follows up (for comparing rounds).
    follow_up_of_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    version: Mapped[QuestionnaireVersion] = relationship(lazy="joined")
    agencies: Mapped[list[Agency]] = relationship(secondary=campaign_agencies, order_by="Agency.acronym")
    follow_up_of: Mapped[Campaign | None] = relationship(remote_side="Campaign.id")

    def name_in(self, lang: str | None) -> str:
        """The name in `lang`: its own translation where one was given, else `name`."""
        return (self.name_translations or {}).get(lang or "") or self.name

    @property
    def shown_name(self) -> str:
        """The name in the language of the page or e-mail being made."""
        from app.i18n import get_locale_code

        return self.name_in(get_locale_code())

    @property
    def is_open(self) -> bool:
        """True while respondents may answer."""
        return self.status == "open"

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.status}>"


class Invitation(db.Model):
    """A magic link for one contact of one agency in one campaign; only the token's hash is stored."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    #: sha256 hex of the random token; the token itself is only ever in the link.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    first_opened_at: Mapped[datetime | None]
    last_opened_at: Mapped[datetime | None]
    open_count: Mapped[int] = mapped_column(default=0)
    #: The invitation e-mail in the outbox (None when the link was handed over another way).
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id", ondelete="SET NULL"))
    last_reminded_at: Mapped[datetime | None]
    reminder_count: Mapped[int] = mapped_column(default=0)
    #: The latest reminder e-mail in the outbox.
    reminder_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id", ondelete="SET NULL"))

    campaign: Mapped[Campaign] = relationship(lazy="joined")
    agency: Mapped[Agency] = relationship(lazy="joined")
    contact: Mapped[Contact] = relationship(lazy="joined")
    message: Mapped[OutboxMessage | None] = relationship(foreign_keys=[message_id])
    reminder_message: Mapped[OutboxMessage | None] = relationship(foreign_keys=[reminder_message_id])

    def is_expired(self, now: datetime) -> bool:
        """True after the expiry time."""
        return as_utc(now) >= as_utc(self.expires_at)

    def __repr__(self) -> str:
        return f"<Invitation {self.id} campaign={self.campaign_id} contact={self.contact_id}>"
