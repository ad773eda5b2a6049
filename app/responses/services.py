"""Responses: who may see which, their progress, the progress overview of a campaign, and reminders.

Scope is enforced here, not in templates: staff and admins see every response; an expert only those
of agencies in their assigned countries (never a regional body's); a respondent only the response of
the agency and campaign of the invitation they signed in with.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.campaigns import services as campaigns
from app.campaigns.models import Campaign, Invitation
from app.core.models import as_utc, utcnow
from app.core.pagination import Page, page_of
from app.directory.models import Agency, Contact, Country
from app.directory.services import agency_matches
from app.extensions import db
from app.i18n import _
from app.questionnaires.services import definition_of
from app.responses.models import RESPONSE_STATUSES, Answer, Response

#: Statuses after which an agency is no longer reminded.
DONE_STATUSES = ("submitted", "validated")


class ResponseError(ValueError):
    """A response operation was refused; the message, translated when raised (into the request's language on
    the web, DEFAULT_LOCALE on the command line), is shown to the person."""


class NotEditable(ResponseError):
    """The response can no longer be changed: submitted, validated, or its campaign closed, perhaps by a colleague
    a moment ago while this request waited for the response's lock."""


# --- scope ---------------------------------------------------------------------------------------------


def expert_country_ids(actor) -> set[int]:
    """Ids of the countries an expert is assigned to."""
    return {c.id for c in getattr(actor, "countries", [])}


def may_see_agency(actor, agency: Agency, invitation: Invitation | None = None,
                   campaign_id: int | None = None) -> bool:
    """Whether `actor` may see the answers of `agency` (in `campaign_id`, for respondents)."""
    role = getattr(actor, "role", None)
    if role in ("staff", "admin"):
        return True
    if role == "expert":
        if agency.country_id is None or agency.country_id not in expert_country_ids(actor):
            return False
        # in a campaign the expert may know of: an agency taken out of it leaves it without their countries
        return campaign_id is None or campaigns.may_see_campaign(actor, db.session.get(Campaign, campaign_id))
    if role == "respondent":
        return (invitation is not None and invitation.agency_id == agency.id
                and (campaign_id is None or invitation.campaign_id == campaign_id))
    return False


def visible_response(actor, response_id: int, invitation: Invitation | None = None) -> Response | None:
    """The response if `actor` may see it, else None (the caller answers 404 either way: no hint that it
    exists)."""
    response = db.session.get(Response, response_id)
    if response is None or not may_see_agency(actor, response.agency, invitation, response.campaign_id):
        return None
    return response


def response_for(campaign: Campaign, agency: Agency) -> Response | None:
    """The agency's response to the campaign, if it has been started."""
    return db.session.scalar(select(Response).where(Response.campaign_id == campaign.id,
                                                    Response.agency_id == agency.id))


def ensure_response(campaign: Campaign, agency: Agency) -> Response:
    """The agency's response, created (not started, pinned to the campaign's current version) if missing."""
    response = response_for(campaign, agency)
    if response is None:
        response = Response(campaign_id=campaign.id, agency_id=agency.id, version_id=campaign.version_id,
                            status="not_started")
        db.session.add(response)
        db.session.flush()
    return response


def answer_values(response: Response) -> dict:
    """{question_id: value} of a response's stored answers."""
    return {a.question_id: a.value for a in db.session.scalars(select(Answer).where(Answer.response_id ==
                                                                                    response.id))}


def refresh_progress(response: Response, today: date | None = None) -> Response:
    """Recompute the required-questions counters of a response from its answers."""
    from app.responses.progress import required_progress

    definition = definition_of(response.version)
    total, answered = required_progress(definition, answer_values(response), today=today)
    response.required_total, response.required_answered = total, answered
    return response


# --- progress overview ---------------------------------------------------------------------------------


@dataclass
class AgencyRow:
    """One agency of the overview: its response state and its contacts' invitations (read for the agencies on the
    page shown only)."""

    agency: Agency
    status: str
    percent: int
    last_activity: datetime | None
    response: Response | None
    #: One row per contact invited (`campaigns.ContactLinks`: the latest link, the reminders, the state).
    invitations: list = field(default_factory=list)

    @property
    def invitation_summary(self) -> str:
        """The best state among the contacts' (opened > sent > queued ... > none)."""
        states = [contact.state for contact in self.invitations]
        for state in campaigns.INVITATION_STATES:
            if state in states:
                return state
        return "none"


@dataclass
class CountryBlock:
    """The agencies of one country (or the regional bodies) with totals per status: `rows` are all the
    country's agencies that match the filters, `shown` those on the page shown."""

    code: str
    name: str
    rows: list[AgencyRow]
    shown: list[AgencyRow] = field(default_factory=list)

    @property
    def totals(self) -> Counter:
        """Number of agencies per status (all the country's matching agencies, on any page)."""
        return Counter(row.status for row in self.rows)

    @property
    def percent(self) -> int:
        """Mean percent of required questions answered across the country's agencies."""
        return round(sum(r.percent for r in self.rows) / len(self.rows)) if self.rows else 0


#: Agencies per page of the progress overview.
OVERVIEW_PER_PAGE = 100


@dataclass
class Overview:
    """The progress overview of one campaign as the actor may see it: every matching agency in `blocks`, and
    `page`, the page of their rows shown (its numbers for the page navigation)."""

    campaign: Campaign
    blocks: list[CountryBlock]
    days_to_deadline: int | None
    page: Page

    @property
    def totals(self) -> Counter:
        """Number of agencies per status over every block."""
        total: Counter = Counter()
        for block in self.blocks:
            total.update(block.totals)
        return total

    @property
    def agency_count(self) -> int:
        """Agencies that match the filters (on every page)."""
        return self.page.total

    @property
    def shown_blocks(self) -> list[CountryBlock]:
        """The blocks with agencies on the page shown."""
        return [block for block in self.blocks if block.shown]


def overview_agencies(campaign: Campaign, actor, *, country: str | None = None, kind: str | None = None,
                      search: str | None = None, status: str | None = None) -> list[Agency]:
    """The campaign's agencies that `actor` may see, filtered by country code ("-" for regional bodies), agency
    type, a text in the acronym or a name (any language, any case) and the status of their response
    ("not_started" for an agency without one)."""
    agencies = [a for a in campaign.agencies if may_see_agency(actor, a)]
    if country:
        agencies = [a for a in agencies if (a.country_code or "-") == country]
    if kind:
        agencies = [a for a in agencies if a.kind == kind]
    if search:
        agencies = [a for a in agencies if agency_matches(a, search)]
    if status:
        statuses = dict(db.session.execute(select(Response.agency_id, Response.status).where(
            Response.campaign_id == campaign.id)).all())
        agencies = [a for a in agencies if statuses.get(a.id, "not_started") == status]
    return agencies


def progress_overview(campaign: Campaign, actor, *, country: str | None = None, status: str | None = None,
                      kind: str | None = None, search: str | None = None, page: int = 1,
                      per_page: int = OVERVIEW_PER_PAGE, lang: str = "en", today: date | None = None) -> Overview:
    """Countries x agencies of a campaign with response status, progress and invitation states, limited to
    what `actor` may see, filtered as `overview_agencies` does and by status; `page` (from 1, kept within the
    pages there are) of `per_page` agencies is the one shown, the totals count every matching agency."""
    if getattr(actor, "role", None) not in ("staff", "admin", "expert"):
        raise ResponseError(_("only staff and experts see the progress overview"))
    agencies = overview_agencies(campaign, actor, country=country, kind=kind, search=search)
    ids = [a.id for a in agencies]
    responses = {r.agency_id: r for r in db.session.scalars(
        select(Response).where(Response.campaign_id == campaign.id, Response.agency_id.in_(ids or [-1])))}
    blocks: dict[str, CountryBlock] = {}
    ordered: list[tuple[CountryBlock, AgencyRow]] = []
    for agency in sorted(agencies, key=lambda a: (a.country_code or "~", a.acronym)):
        response = responses.get(agency.id)
        row = AgencyRow(
            agency=agency, status=response.status if response else "not_started",
            percent=response.percent_required if response else 0,
            last_activity=response.last_activity_at if response else None, response=response,
        )
        if status and row.status != status:
            continue
        code = agency.country_code or "-"
        if code not in blocks:
            name = agency.country.name(lang) if agency.country else ""
            blocks[code] = CountryBlock(code, name, [])
        blocks[code].rows.append(row)
        ordered.append((blocks[code], row))
    shown = page_of(ordered, page, max(1, per_page))
    # The invitations only of the agencies shown: the totals count statuses, not invitation states.
    now = utcnow()
    links: dict[int, dict[int, list[Invitation]]] = {}  # agency id -> contact id -> the contact's links, oldest first
    for invitation in db.session.scalars(select(Invitation).where(
            Invitation.campaign_id == campaign.id, Invitation.agency_id.in_([row.agency.id for _b, row in shown.items]
                                                                             or [-1])).order_by(Invitation.id)):
        links.setdefault(invitation.agency_id, {}).setdefault(invitation.contact_id, []).append(invitation)
    for block, row in shown.items:
        # the latest link of each contact (its actions and reminders), with the contact's state as the campaign
        # page gives it (`contact_state`)
        row.invitations = [campaigns.ContactLinks(own, now) for own in links.get(row.agency.id, {}).values()]
        block.shown.append(row)
    return Overview(campaign, list(blocks.values()), campaigns.days_to_deadline(campaign, today), shown)


def overview_countries(campaign: Campaign, actor) -> list[Country]:
    """Countries of the campaign's agencies that `actor` may see (for the filter)."""
    found = {a.country.id: a.country for a in campaign.agencies if a.country and may_see_agency(actor, a)}
    return sorted(found.values(), key=lambda c: c.code)


# --- reminders -----------------------------------------------------------------------------------------


@dataclass
class ReminderOutcome:
    """What `remind` did for one contact of an agency that the campaign asks."""

    invitation: Invitation | None
    #: "reminded", "too soon", "submitted"; or, not reminded for want of a link to send again,
    #: "link expired", "link revoked" or "not invited" (an active contact without any link: added since)
    action: str
    agency: Agency | None = None
    contact: Contact | None = None

    def __post_init__(self):
        if self.invitation is not None:
            self.agency = self.agency or self.invitation.agency
            self.contact = self.contact or self.invitation.contact

    @property
    def without_link(self) -> bool:
        """Not reminded because there is no valid link to remind of: the contact needs an invitation."""
        return self.action in WITHOUT_LINK


#: The outcomes of contacts without a valid link (a new invitation sends them one).
WITHOUT_LINK = ("link expired", "link revoked", "not invited")


def remind(campaign: Campaign, *, actor=None, min_days: int = 7, country_codes=None, agency_ids=None,
           now: datetime | None = None, channel: str = "web") -> list[ReminderOutcome]:
    """Remind each contact of agencies that have not submitted (with a fresh link), at most once every
    `min_days` days per contact (counted from the last reminder or, before any, from the invitation)."""
    if min_days < 0:
        raise ResponseError(_("The minimum interval cannot be negative."))
    campaigns.lock_campaign(campaign.id)  # two people reminding at once: the second sees the first's reminders
    db.session.refresh(campaign, ["status"])  # as it is now: a colleague may have closed it meanwhile
    if campaign.status != "open":
        raise ResponseError(_("Reminders can only be sent for an open campaign."))
    now = now or utcnow()
    codes = {c.strip().upper() for c in country_codes} if country_codes else None
    if codes:  # as `invite` does: a mistyped code is said, not "0 reminders"
        asked_codes = {c.code for c in campaigns.campaign_countries(campaign)}
        if codes - asked_codes:
            raise ResponseError(_("country code(s) not asked by this campaign: %(codes)s",
                                  codes=", ".join(sorted(codes - asked_codes))))
    wanted = set(agency_ids) if agency_ids is not None else None
    done = {r.agency_id for r in db.session.scalars(select(Response).where(
        Response.campaign_id == campaign.id, Response.status.in_(DONE_STATUSES)))}
    asked = {agency.id for agency in campaign.agencies}
    by_contact: dict[int, list[Invitation]] = {}
    for invitation in campaigns.invitations_of(campaign):
        if invitation.agency_id in asked:  # an agency taken out of the campaign: its links open nothing
            by_contact.setdefault(invitation.contact_id, []).append(invitation)
    outcomes: list[ReminderOutcome] = []

    def concerned(agency: Agency, contact: Contact) -> bool:
        return ((codes is None or agency.country_code in codes) and (wanted is None or agency.id in wanted)
                and contact.is_active and agency.is_active)

    for invitations in by_contact.values():
        valid = [i for i in invitations if campaigns.is_valid(i, now)]
        invitation = valid[-1] if valid else invitations[-1]
        agency, contact = invitation.agency, invitation.contact
        if not concerned(agency, contact):
            continue
        if not valid:
            # Staff decide whether this contact gets a new link (invite), but are told: "0 reminders" alone
            # hid that the links had expired. A contact who moved is counted under their new agency.
            state = campaigns.check_link_state(invitation, now)  # "revoked", "expired" or "moved" here
            if agency.id not in done and state in ("revoked", "expired"):
                outcomes.append(ReminderOutcome(invitation, f"link {state}"))
            continue
        if agency.id in done:
            outcomes.append(ReminderOutcome(invitation, "submitted"))
            continue
        last = max([as_utc(i.last_reminded_at or i.created_at) for i in invitations])
        if now - last < timedelta(days=min_days):
            outcomes.append(ReminderOutcome(invitation, "too soon"))
            continue
        campaigns.queue_reminder(invitation, actor=actor, channel=channel)
        outcomes.append(ReminderOutcome(invitation, "reminded"))
    invited = {(i.contact_id, i.agency_id) for invitations in by_contact.values() for i in invitations}
    for agency in sorted(campaign.agencies, key=lambda a: (a.country_code or "", a.acronym)):
        if agency.id in done:
            continue
        for contact in agency.contacts:  # added to the agency (or the agency to the campaign) since the invitations
            if (contact.id, agency.id) not in invited and concerned(agency, contact):
                outcomes.append(ReminderOutcome(None, "not invited", agency=agency, contact=contact))
    return outcomes


__all__ = ["RESPONSE_STATUSES", "NotEditable", "ResponseError", "overview_agencies", "progress_overview", "remind",
           "visible_response"]
