"""Campaign operations: create, edit, open, close; invitations by magic link: issue, open, revoke.

Plain arguments in, objects out; `actor` is passed explicitly; flush, never commit (the request or the
command commits once at its end, together with the audit events and the queued e-mails).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app, has_request_context, request, url_for
from sqlalchemy import Select, false, func, select
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.campaigns.models import CAMPAIGN_STATUSES, Campaign, Invitation, campaign_agencies
from app.campaigns.tokens import hash_token, looks_like_token, new_token
from app.core import audit
from app.core.models import as_utc, utcnow
from app.directory.models import Agency, Contact, Country
from app.extensions import db, lock_for_writing
from app.i18n import _, language_name, local_today
from app.mail import services as mail
from app.questionnaires.models import QuestionnaireVersion


class CampaignError(ValueError):
    """A campaign operation was refused; the message, translated when raised (into the request's language on
    the web, DEFAULT_LOCALE on the command line), is shown to the person; `field` names the form field it is
    about, when there is one."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- campaigns ---------------------------------------------------------------------------------------


def list_campaigns() -> list[Campaign]:
    """Every campaign, newest first."""
    return list(db.session.scalars(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())))


def _sees_every_campaign(actor) -> bool:
    return getattr(actor, "role", None) in ("staff", "admin")


def _actor_country_ids(actor) -> set[int]:
    return {country.id for country in getattr(actor, "countries", None) or []}


def visible_campaigns_query(actor) -> Select:
    """The campaigns `actor` may know of (unordered): every one for staff; for an expert, those that are
    not drafts and ask at least one agency of their countries (as on the review pages); none for others."""
    query = select(Campaign)
    if _sees_every_campaign(actor):
        return query
    if getattr(actor, "role", None) != "expert":
        return query.where(false())
    asking = (select(campaign_agencies.c.campaign_id)
              .join(Agency, Agency.id == campaign_agencies.c.agency_id)
              .where(Agency.country_id.in_(_actor_country_ids(actor) or {-1})))
    return query.where(Campaign.status != "draft", Campaign.id.in_(asking))


def campaigns_for(actor) -> list[Campaign]:
    """The campaigns `actor` may know of (`visible_campaigns_query`), newest first."""
    return list(db.session.scalars(visible_campaigns_query(actor).order_by(Campaign.created_at.desc(),
                                                                           Campaign.id.desc())))


def may_see_campaign(actor, campaign: Campaign | None) -> bool:
    """Whether `actor` may know of `campaign` (see `campaigns_for`)."""
    if campaign is None:
        return False
    if _sees_every_campaign(actor):
        return True
    if getattr(actor, "role", None) != "expert" or campaign.status == "draft":
        return False
    countries = _actor_country_ids(actor)
    return any(agency.country_id in countries for agency in campaign.agencies)


def visible_agency_count(actor, campaign: Campaign) -> int:
    """How many of the campaign's agencies `actor` may see: all for staff, those of an expert's countries."""
    if _sees_every_campaign(actor):
        return len(campaign.agencies)
    countries = _actor_country_ids(actor)
    return sum(1 for agency in campaign.agencies if agency.country_id in countries)


def get_campaign(campaign_id: int) -> Campaign | None:
    """The campaign with this id, or None."""
    return db.session.get(Campaign, campaign_id)


def lock_campaign(campaign_id: int) -> None:
    """Take the campaign's row lock until the end of the transaction, so that two transactions working on the
    same campaign run one after the other and the second reads what the first committed: two submissions
    refreshing one country's figures (else the second could fail on the unique key, or keep figures computed
    without the first's answers), a rating during a submission, a rebuild, two staff members inviting or
    reminding at once (else everyone gets two e-mails).
    On SQLite, which has no row locks, the whole database's write lock (`lock_for_writing`)."""
    lock_for_writing(Campaign.__table__)
    db.session.execute(select(Campaign.id).where(Campaign.id == campaign_id).with_for_update())


#: The parts of a campaign's settings an edit page shows, compared when it is saved (`edit_state`).
EDIT_PARTS = ("name", "version", "dates", "follow_up_of", "agencies", "targets")


def edit_state(campaign: Campaign) -> dict:
    """What an edit page of the campaign showed: a digest of each of its parts and the agencies' ids. Given back
    when the page is saved (`changed_since`), so that a page opened before a colleague's save does not undo it
    without a word (an agency added meanwhile, taken out again by the older page, loses the links just sent)."""
    from app.responses.answering import digest

    parts = {"name": [campaign.name, campaign.name_translations or {}, campaign.description or ""],
             "version": campaign.version_id, "dates": [campaign.opens_on, campaign.deadline],
             "follow_up_of": campaign.follow_up_of_id, "agencies": sorted(a.id for a in campaign.agencies),
             "targets": campaign.target_overrides or {}}
    return {"parts": {name: digest(value) for name, value in parts.items()}, "agencies": parts["agencies"]}


def changed_since(campaign: Campaign, seen: dict | None) -> list[str]:
    """The parts (EDIT_PARTS) of the campaign that differ from `seen` (an `edit_state` the page showed), read
    under the campaign's lock so that two saves go one after the other; every part when `seen` is unknown."""
    lock_campaign(campaign.id)
    db.session.refresh(campaign)
    current = edit_state(campaign)["parts"]
    seen_parts = (seen or {}).get("parts") if isinstance(seen, dict) else None
    if not isinstance(seen_parts, dict):
        return list(EDIT_PARTS)
    return [part for part in EDIT_PARTS if seen_parts.get(part) != current[part]]


def campaign_countries(campaign: Campaign) -> list[Country]:
    """The countries of the agencies a campaign asks, by code (one query, without loading the agencies)."""
    return list(db.session.scalars(select(Country).where(Country.id.in_(
        select(Agency.country_id).join(campaign_agencies, campaign_agencies.c.agency_id == Agency.id)
        .where(campaign_agencies.c.campaign_id == campaign.id))).order_by(Country.code)))


def _check_dates(opens_on: date | None, deadline: date | None) -> None:
    if opens_on and deadline and deadline < opens_on:
        raise CampaignError(_("The deadline is before the opening date."))


def _check_targets(version: QuestionnaireVersion, overrides: dict | None) -> dict:
    """Validate per-country target overrides {"KZ": {"indicator_id": level}} against the definition."""
    if not overrides:
        return {}
    definition = version.definition
    indicators = {i["id"] for a in definition.get("areas", []) for i in a.get("indicators", [])}
    levels = [level["level"] for level in definition.get("scale", [])]
    low, high = (min(levels), max(levels)) if levels else (0, 4)
    codes = {c.code for c in db.session.scalars(select(Country))}
    clean: dict[str, dict[str, float]] = {}
    for code, targets in overrides.items():
        code = str(code).strip().upper()
        if code not in codes:
            raise CampaignError(_("target overrides: unknown country code '%(code)s'", code=code))
        for indicator, level in (targets or {}).items():
            if indicator not in indicators:
                raise CampaignError(_("target overrides: %(country)s: unknown indicator '%(indicator)s'", country=code,
                                       indicator=indicator))
            try:
                value = float(level)
            except (TypeError, ValueError):
                raise CampaignError(_("target overrides: %(country)s.%(indicator)s: '%(value)s' is not a number",
                                       country=code, indicator=indicator, value=level)) from None
            if not low <= value <= high:
                raise CampaignError(_("target overrides: %(country)s.%(indicator)s: %(value)s is outside the scale "
                                       "%(low)s..%(high)s", country=code, indicator=indicator, value=format(value, "g"),
                                       low=low, high=high))
            clean.setdefault(code, {})[indicator] = int(value) if value.is_integer() else value
    return clean


def _name_translations(name: str, translations: dict | None) -> dict[str, str]:
    """The names in other languages, trimmed; empty ones and those equal to `name` are dropped."""
    clean = {}
    for lang, text in sorted((translations or {}).items()):
        text = (text or "").strip()
        if len(text) > 200:
            raise CampaignError(_("The name in %(language)s is longer than 200 characters.",
                                  language=language_name(lang)), field=f"name_{lang}")
        if text and text != name:
            clean[lang] = text
    return clean


def create_campaign(
    name: str,
    version: QuestionnaireVersion,
    *,
    name_translations: dict | None = None,
    agencies: Iterable[Agency] = (),
    opens_on: date | None = None,
    deadline: date | None = None,
    description: str = "",
    follow_up_of: Campaign | None = None,
    target_overrides: dict | None = None,
    actor=None,
    channel: str = "web",
) -> Campaign:
    """Create a campaign in draft status."""
    name = (name or "").strip()
    if not name:
        raise CampaignError(_("the campaign needs a name"))
    _check_dates(opens_on, deadline)
    campaign = Campaign(
        name=name, name_translations=_name_translations(name, name_translations), version=version,
        opens_on=opens_on, deadline=deadline, description=description.strip(),
        follow_up_of=follow_up_of, target_overrides=_check_targets(version, target_overrides), status="draft",
        created_by_id=getattr(actor, "id", None),
    )
    campaign.agencies = _unique(agencies)
    db.session.add(campaign)
    db.session.flush()
    # each country asked has its figures (targets, agencies asked) from the start, as a rebuild writes them
    refresh_country_scores(campaign, {agency.country_id for agency in campaign.agencies if agency.country_id})
    audit.record("campaign.created", actor=actor, object_type="campaign", object_id=campaign.id,
                 new=_snapshot(campaign), channel=channel)
    return campaign


def update_campaign(
    campaign: Campaign,
    *,
    name: str,
    name_translations: dict | None = None,
    version: QuestionnaireVersion,
    agencies: Iterable[Agency],
    opens_on: date | None,
    deadline: date | None,
    description: str = "",
    follow_up_of: Campaign | None = None,
    target_overrides: dict | None = None,
    actor=None,
    channel: str = "web",
) -> Campaign:
    """Change a campaign; the questionnaire version can only change while it is a draft."""
    if not (name or "").strip():
        raise CampaignError(_("the campaign needs a name"))
    if version.id != campaign.version_id and campaign.status != "draft":
        raise CampaignError(_("The questionnaire version can only be changed while the campaign is a draft."))
    if follow_up_of is not None and follow_up_of.id == campaign.id:
        raise CampaignError(_("A campaign cannot follow up itself."))
    ancestor, seen = follow_up_of, set()
    while ancestor is not None and ancestor.id not in seen:  # a follow-up chain never comes back to its start
        if ancestor.follow_up_of_id == campaign.id:
            raise CampaignError(_("“%(name)s” already follows up this campaign (directly or through others): "
                                  "a campaign cannot follow up its own follow-up.", name=follow_up_of.shown_name),
                                field="follow_up_of")
        seen.add(ancestor.id)
        ancestor = ancestor.follow_up_of
    _check_dates(opens_on, deadline)
    # None keeps the names in other languages as they are.
    translations = _name_translations(name.strip(), campaign.name_translations if name_translations is None
                                      else name_translations)
    targets = _check_targets(version, target_overrides)
    wanted = _unique(agencies)
    before = {agency.id: agency for agency in campaign.agencies}
    removed = [before[agency_id] for agency_id in sorted(before.keys() - {agency.id for agency in wanted})]
    answering = _agencies_with_responses(campaign, removed)
    if answering:
        raise CampaignError(_("%(agencies)s already answered in this campaign and cannot be taken out of it; "
                              "deactivate the agency instead if it should get no more e-mails.",
                              agencies=", ".join(f"{a.country_code or '-'}/{a.acronym}" for a in answering)),
                            field="agencies")
    old = _snapshot(campaign)
    old_targets = campaign.target_overrides or {}
    old_version_id = campaign.version_id
    campaign.name = name.strip()
    campaign.name_translations = translations
    campaign.version = version
    campaign.opens_on, campaign.deadline = opens_on, deadline
    campaign.description = (description or "").strip()
    campaign.follow_up_of = follow_up_of
    campaign.target_overrides = targets
    campaign.agencies = wanted
    db.session.flush()
    new = _snapshot(campaign)
    if new != old:
        audit.record("campaign.updated", actor=actor, object_type="campaign", object_id=campaign.id, old=old,
                     new=new, channel=channel)
    # The links of an agency taken out of the campaign stop working (check_link_state refuses them anyway).
    removed_ids = {agency.id for agency in removed}
    extended, now = 0, utcnow()
    for invitation in invitations_of(campaign):
        if invitation.agency_id in removed_ids and invitation.revoked_at is None:
            revoke(invitation, actor=actor, channel=channel)
        elif deadline is not None and is_valid(invitation, now):
            # a later deadline keeps the links still valid until it (never shortened; an expired or revoked
            # link stays so)
            until = link_expiry(campaign, invitation.created_at)
            if until > as_utc(invitation.expires_at):
                invitation.expires_at = until
                extended += 1
    if extended:
        audit.record("invitations.extended", actor=actor, object_type="campaign", object_id=campaign.id,
                     channel=channel, new={"links": extended, "deadline": deadline.isoformat()})
    # The materialized country figures depend on the targets and on the agencies asked: keep them in step.
    changed_countries = {a.country_id for a in removed} | {a.country_id for a in wanted if a.id not in before}
    if targets != old_targets or version.id != old_version_id:  # another version: other indicators and targets
        # every country with figures, including one whose only response is of an agency no longer asked
        from app.scoring.store import figure_countries

        changed_countries |= figure_countries(campaign)
    refresh_country_scores(campaign, {c for c in changed_countries if c is not None})
    return campaign


def agency_moved(agency: Agency, old_country_id: int | None) -> None:
    """After an agency changed country: the figures of its old and new country in every campaign that asks it
    or holds its answers."""
    from app.responses.models import Response

    if agency.country_id == old_country_id:
        return
    campaign_ids = set(db.session.scalars(select(campaign_agencies.c.campaign_id).where(
        campaign_agencies.c.agency_id == agency.id)))
    campaign_ids |= set(db.session.scalars(select(Response.campaign_id).where(Response.agency_id == agency.id)))
    for campaign in db.session.scalars(select(Campaign).where(Campaign.id.in_(campaign_ids)).order_by(Campaign.id)):
        refresh_country_scores(campaign, {c for c in (old_country_id, agency.country_id) if c is not None})


def _agencies_with_responses(campaign: Campaign, agencies: list[Agency]) -> list[Agency]:
    """Those of `agencies` that have answered in the campaign (a response started or further; one only opened
    from a link, with no answer yet, does not count)."""
    from app.responses.models import Response

    if not agencies:
        return []
    started = set(db.session.scalars(select(Response.agency_id).where(
        Response.campaign_id == campaign.id, Response.agency_id.in_([a.id for a in agencies]),
        Response.status != "not_started")))
    return [a for a in agencies if a.id in started]


def refresh_country_scores(campaign: Campaign, country_ids: set[int]) -> None:
    """Recompute the country figures of these countries, or drop them for a country the campaign no longer
    asks and where nobody answered (as `flask scores rebuild` would)."""
    from app.scoring import store

    if not country_ids:
        return
    kept = store.figure_countries(campaign)
    for country_id in sorted(country_ids):
        if country_id in kept:
            store.refresh_country(campaign, country_id)
        else:
            store.delete_country_scores(campaign.id, country_id)


def set_status(campaign: Campaign, status: str, *, actor=None, channel: str = "web") -> Campaign:
    """Open (from draft or closed) or close (from open) a campaign; audited."""
    if status not in CAMPAIGN_STATUSES or status == "draft":
        raise CampaignError(_("A campaign can be opened or closed, not set to '%(status)s'.", status=status))
    if status == campaign.status:
        return campaign
    if status == "open" and not campaign.agencies:
        raise CampaignError(_("Choose at least one agency before opening the campaign."))
    if status == "closed" and campaign.status != "open":
        raise CampaignError(_("Only an open campaign can be closed."))
    old = campaign.status
    campaign.status = status
    if status == "open":
        campaign.opened_at = campaign.opened_at or utcnow()
        campaign.closed_at = None
    else:
        campaign.closed_at = utcnow()
    db.session.flush()
    audit.record(f"campaign.{'opened' if status == 'open' else 'closed'}", actor=actor, object_type="campaign",
                 object_id=campaign.id, old={"status": old}, new={"status": status}, channel=channel)
    return campaign


def delete_draft(campaign: Campaign, *, actor=None, channel: str = "web") -> str:
    """Delete a draft campaign (one made by mistake, or twice); audited with what it was. An opened campaign
    is kept (its invitations and answers are history: close it instead), and so is a draft that another
    campaign follows up. Returns the name it had."""
    from app.responses.models import Response

    if campaign.status != "draft":
        raise CampaignError(_("Only a draft can be deleted: this campaign has been opened. Close it instead."))
    followers = list(db.session.scalars(select(Campaign).where(Campaign.follow_up_of_id == campaign.id)
                                        .order_by(Campaign.id)))
    if followers:
        raise CampaignError(_("Campaigns that follow up this one: %(campaigns)s. Edit them to follow up another "
                              "campaign first.", campaigns=", ".join(c.shown_name for c in followers)))
    used = db.session.scalar(select(func.count()).select_from(Invitation).where(Invitation.campaign_id == campaign.id))
    used += db.session.scalar(select(func.count()).select_from(Response).where(Response.campaign_id == campaign.id))
    if used:  # a draft never sends links or takes answers; refuse rather than lose any that got there
        raise CampaignError(_("This draft already holds invitations or answers and cannot be deleted."))
    name = campaign.shown_name
    audit.record("campaign.deleted", actor=actor, object_type="campaign", object_id=campaign.id,
                 old=_snapshot(campaign), channel=channel)
    db.session.delete(campaign)
    db.session.flush()
    return name


def days_to_deadline(campaign: Campaign, today: date | None = None) -> int | None:
    """Days from today (in TIMEZONE, as the deadline is meant) to the deadline (negative when it has passed), or
    None without a deadline."""
    if campaign.deadline is None:
        return None
    return (campaign.deadline - (today or local_today())).days


def _unique(agencies: Iterable[Agency]) -> list[Agency]:
    seen: dict[int, Agency] = {}
    for agency in agencies:
        seen.setdefault(agency.id, agency)
    return list(seen.values())


def _snapshot(campaign: Campaign) -> dict:
    return {
        "name": campaign.name, "name_translations": campaign.name_translations or {},
        "version_id": campaign.version.id if campaign.version else campaign.version_id,
        "opens_on": campaign.opens_on.isoformat() if campaign.opens_on else None,
        "deadline": campaign.deadline.isoformat() if campaign.deadline else None,
        "status": campaign.status, "agencies": sorted(a.id for a in campaign.agencies),
        "follow_up_of": campaign.follow_up_of.id if campaign.follow_up_of else None,
        "target_overrides": campaign.target_overrides or {},
    }


# --- invitations -------------------------------------------------------------------------------------


@dataclass
class Issued:
    """One contact handled by `invite`: the invitation made (with its token, shown once) or why not."""

    contact: Contact
    agency: Agency
    invitation: Invitation | None
    token: str | None
    link: str | None
    skipped: str | None = None


def link_for(token: str) -> str:
    """The absolute magic link of a token (BASE_URL, else the current request's address)."""
    base = current_app.config.get("BASE_URL")
    path = url_for("campaigns.open_link", token=token, _external=False) if has_request_context() else \
        _path_without_request(token)
    if base:
        return base + path
    if has_request_context():
        return request.host_url.rstrip("/") + path
    return "http://127.0.0.1:5000" + path


def _path_without_request(token: str) -> str:
    with current_app.test_request_context("/"):
        return url_for("campaigns.open_link", token=token)


def is_valid(invitation: Invitation, now: datetime | None = None) -> bool:
    """Not revoked, not expired, and its contact still works for the agency it was issued for."""
    return (invitation.revoked_at is None and not invitation.is_expired(now or utcnow())
            and not has_moved(invitation))


def _asked(campaign_id: int, agency_id: int) -> bool:
    """Whether the campaign (still) asks this agency."""
    return db.session.scalar(select(campaign_agencies.c.agency_id).where(
        campaign_agencies.c.campaign_id == campaign_id, campaign_agencies.c.agency_id == agency_id)) is not None


def has_moved(invitation: Invitation) -> bool:
    """Whether the invitation's contact has moved to another agency (or left every agency) since it was
    issued: the link then opens nothing, and the contact is invited afresh for their new agency."""
    return invitation.contact.agency_id != invitation.agency_id


def active_contact_count(campaign: Campaign) -> int:
    """The active contacts of the campaign's agencies (one query, without loading agencies and contacts)."""
    return db.session.scalar(select(func.count(Contact.id)).join(
        campaign_agencies, campaign_agencies.c.agency_id == Contact.agency_id).where(
        campaign_agencies.c.campaign_id == campaign.id, Contact.is_active.is_(True))) or 0


def invitations_of(campaign: Campaign, *, country_ids: Iterable[int] | None = None) -> list[Invitation]:
    """Every invitation of a campaign (optionally only for agencies of these countries), oldest first."""
    query = select(Invitation).where(Invitation.campaign_id == campaign.id).order_by(Invitation.id)
    if country_ids is not None:
        query = query.join(Agency, Agency.id == Invitation.agency_id).where(Agency.country_id.in_(list(country_ids)))
    return list(db.session.scalars(query))


def invite(
    campaign: Campaign,
    *,
    actor=None,
    country_codes: Iterable[str] | None = None,
    agency_ids: Iterable[int] | None = None,
    contact_ids: Iterable[int] | None = None,
    reissue: bool = False,
    send_email: bool = True,
    channel: str = "web",
) -> list[Issued]:
    """Issue a magic link to every active contact of the campaign's active agencies (filtered) and queue
    the invitation e-mail in the contact's language.

    A contact who already has a valid invitation to this campaign is skipped unless `reissue` is set;
    a re-issued link does not invalidate the earlier one (staff revoke it explicitly).
    """
    lock_campaign(campaign.id)
    db.session.refresh(campaign, ["status"])  # as it is now: a colleague may have closed it meanwhile
    if campaign.status != "open":
        raise CampaignError(_("Invitations can only be sent for an open campaign."))
    codes = {c.strip().upper() for c in country_codes} if country_codes else None
    wanted_agencies = set(agency_ids) if agency_ids is not None else None
    wanted_contacts = set(contact_ids) if contact_ids is not None else None
    if codes:
        known = {c.code for c in db.session.scalars(select(Country).where(Country.code.in_(codes)))}
        if codes - known:
            raise CampaignError(_("unknown country code(s): %(codes)s", codes=", ".join(sorted(codes - known))))
    now = utcnow()
    valid_by_contact: dict[int, Invitation] = {}
    for invitation in invitations_of(campaign):
        if is_valid(invitation, now):
            valid_by_contact[invitation.contact_id] = invitation
    out: list[Issued] = []
    for agency in campaign.agencies:
        if codes is not None and agency.country_code not in codes:
            continue
        if wanted_agencies is not None and agency.id not in wanted_agencies:
            continue
        for contact in agency.contacts:
            if wanted_contacts is not None and contact.id not in wanted_contacts:
                continue
            if not agency.is_active or not contact.is_active:
                out.append(Issued(contact, agency, None, None, None, skipped="inactive"))
                continue
            if not reissue and contact.id in valid_by_contact:
                out.append(Issued(contact, agency, valid_by_contact[contact.id], None, None,
                                  skipped="already invited"))
                continue
            out.append(_issue(campaign, agency, contact, actor=actor, send_email=send_email, channel=channel))
    return out


def link_expiry(campaign: Campaign, issued_at: datetime) -> datetime:
    """When a link issued at `issued_at` stops working: INVITATION_VALID_DAYS later, and never before the end of
    the campaign's deadline (the whole day in TIMEZONE, the zone of the e-mails that give both dates): before,
    a link sent early for a distant deadline expired while the agency still had months to answer."""
    from zoneinfo import ZoneInfo

    until = as_utc(issued_at) + timedelta(days=current_app.config["INVITATION_VALID_DAYS"])
    if campaign.deadline is not None:
        zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
        until = max(until, datetime.combine(campaign.deadline, time(23, 59, 59), tzinfo=zone).astimezone(UTC))
    return until


def _issue(campaign: Campaign, agency: Agency, contact: Contact, *, actor, send_email: bool, channel: str) -> Issued:
    token, token_hash = new_token()
    invitation = Invitation(campaign=campaign, agency=agency, contact=contact, token_hash=token_hash,
                            expires_at=link_expiry(campaign, utcnow()), created_by_id=getattr(actor, "id", None))
    db.session.add(invitation)
    db.session.flush()
    link = link_for(token)
    if send_email:
        message = mail.queue("invitation", to=contact.email, to_name=contact.name, locale=contact.locale,
                             template="invitation", context=_mail_context(invitation, link), actor=actor)
        invitation.message_id = message.id
        mail.send_soon(message)
    audit.record("invitation.sent" if send_email else "invitation.issued", actor=actor, object_type="invitation",
                 object_id=invitation.id, channel=channel,
                 new={"campaign": campaign.id, "agency": agency.id, "contact": contact.id,
                      "expires_at": invitation.expires_at.isoformat()})
    return Issued(contact, agency, invitation, token, link)


def _mail_context(invitation: Invitation, link: str) -> dict:
    campaign, contact = invitation.campaign, invitation.contact
    definition = campaign.version.definition
    title = definition.get("title")
    if isinstance(title, dict):
        title = title.get(contact.locale) or title.get(definition.get("languages", ["en"])[0]) or \
            next(iter(title.values()), "")
    return {"campaign": campaign, "agency": invitation.agency, "contact": contact, "link": link,
            "questionnaire_title": title, "deadline": campaign.deadline, "expires_at": invitation.expires_at,
            "agency_name": invitation.agency.name(contact.locale)}


def reissue(invitation: Invitation, *, actor=None, channel: str = "web") -> Issued:
    """A new link (and e-mail) for the same contact; the earlier link stays valid unless revoked."""
    if invitation.campaign.status != "open":
        raise CampaignError(_("Invitations can only be sent for an open campaign."))
    if not invitation.contact.is_active or not invitation.agency.is_active:
        raise CampaignError(_("The contact or the agency is not active."))
    if has_moved(invitation):
        raise CampaignError(_("The contact no longer works for this agency: invite them for their new one."))
    if not _asked(invitation.campaign_id, invitation.agency_id):
        # its link would open nothing (the e-mail would carry a dead link), and reminders would follow it
        raise CampaignError(_("%(agency)s is no longer asked in this campaign: add it to the campaign again before "
                              "sending a link.", agency=invitation.agency.acronym))
    return _issue(invitation.campaign, invitation.agency, invitation.contact, actor=actor, send_email=True,
                  channel=channel)


def revoke_contact_links(invitation: Invitation, *, actor=None, channel: str = "web") -> int:
    """Revoke this invitation and every other link of the same contact in the same campaign (reminders and
    clarification requests each sent a fresh one): revoking "the link" of a person must cut their access.
    Returns how many were revoked."""
    count = 0
    for other in db.session.scalars(select(Invitation).where(Invitation.campaign_id == invitation.campaign_id,
                                                             Invitation.contact_id == invitation.contact_id,
                                                             Invitation.revoked_at.is_(None))):
        revoke(other, actor=actor, channel=channel)
        count += 1
    return count


def revoke(invitation: Invitation, *, actor=None, channel: str = "web") -> Invitation:
    """Make a link unusable at once (a respondent signed in with it is signed out on their next request)."""
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        invitation.revoked_by_id = getattr(actor, "id", None)
        db.session.flush()
        audit.record("invitation.revoked", actor=actor, object_type="invitation", object_id=invitation.id,
                     channel=channel, new={"campaign": invitation.campaign_id, "contact": invitation.contact_id})
    return invitation


def queue_reminder(invitation: Invitation, *, actor=None, channel: str = "web") -> Invitation:
    """Queue a reminder e-mail with a fresh link for one invitation's contact (the caller decides who is late)."""
    issued = _issue(invitation.campaign, invitation.agency, invitation.contact, actor=actor, send_email=False,
                    channel=channel)
    new = issued.invitation
    from app.responses.models import Response

    context = _mail_context(new, issued.link)
    # Answers returned for clarification have been received: the reminder asks for the replies instead
    context["returned"] = db.session.scalar(select(Response.status).where(
        Response.campaign_id == new.campaign_id, Response.agency_id == new.agency_id)) == "returned"
    message = mail.queue("reminder", to=new.contact.email, to_name=new.contact.name, locale=new.contact.locale,
                         template="reminder", context=context, actor=actor)
    new.message_id = message.id
    mail.send_soon(message)
    # counted over all the contact's links (this one among them): a link resent by hand or for a clarification
    # request starts at 0
    before = db.session.scalar(select(func.max(Invitation.reminder_count)).where(
        Invitation.campaign_id == invitation.campaign_id, Invitation.contact_id == invitation.contact_id,
        Invitation.agency_id == invitation.agency_id)) or 0
    now, count = utcnow(), before + 1
    for target in (invitation, new):
        target.last_reminded_at = now
        target.reminder_count = count
        target.reminder_message_id = message.id
    db.session.flush()
    audit.record("invitation.reminded", actor=actor, object_type="invitation", object_id=invitation.id,
                 channel=channel, new={"campaign": invitation.campaign_id, "contact": invitation.contact_id,
                                       "reminders": invitation.reminder_count, "new_invitation": new.id})
    return new


# --- opening a link and the respondent's scope --------------------------------------------------------


@dataclass(frozen=True)
class LinkOutcome:
    """The result of opening a link: the invitation when it may sign in, else the reason ("unknown",
    "revoked", "expired", "moved", "inactive") and, where known, the invitation (for the contact's language)."""

    invitation: Invitation | None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """True when the link signs its contact in."""
        return self.reason is None


def check_link(token: str, now: datetime | None = None) -> LinkOutcome:
    """Find the invitation of a token and say whether it may sign in."""
    if not looks_like_token(token or ""):
        return LinkOutcome(None, "unknown")
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token)))
    if invitation is None:
        return LinkOutcome(None, "unknown")
    return LinkOutcome(invitation, check_link_state(invitation, now))


def record_opening(invitation: Invitation, user: User) -> None:
    """Count an opening of a valid link (audited as "invitation.opened")."""
    now = utcnow()
    first = invitation.first_opened_at is None
    invitation.first_opened_at = invitation.first_opened_at or now
    invitation.last_opened_at = now
    invitation.open_count = (invitation.open_count or 0) + 1
    audit.record("invitation.opened", actor=user, object_type="invitation", object_id=invitation.id,
                 new={"first": first, "count": invitation.open_count})


class AccountInactive(CampaignError):
    """The respondent account of a contact was deactivated by an administrator: its links sign nobody in."""


def _existing_account(contact: Contact) -> User | None:
    """The account the contact signs in with: the one linked to it, else the one of its address; None yet."""
    user = db.session.get(User, contact.user_id) if contact.user_id else None
    return user if user is not None else db.session.scalar(select(User).where(User.email == contact.email))


def respondent_for(contact: Contact) -> User:
    """The respondent account of a contact, created on first use (no password: links only); an account an
    administrator deactivated stays so (AccountInactive)."""
    user = _existing_account(contact)
    if user is not None and user.role != "respondent":
        raise CampaignError(_("This contact's e-mail belongs to a staff or expert account."))
    if user is not None and not user.is_active:
        raise AccountInactive("the respondent account is deactivated")
    if user is None:
        user = User(email=contact.email, role="respondent", name=contact.name, locale=contact.locale,
                    is_active=True, password_hash=None)
        try:
            with db.session.begin_nested():
                db.session.add(user)
        except IntegrityError:
            # The link opened twice at once (a double click, a mail scanner fetching it as the person clicks):
            # the other request created the account first. It is theirs to share, as a second opening would.
            user = db.session.scalar(select(User).where(User.email == contact.email))
            if user is None:
                raise
            return respondent_for(contact)
        audit.record("user.created", object_type="user", object_id=user.id, channel="link",
                     new={"email": user.email, "role": "respondent", "contact": contact.id})
    contact.user_id = user.id
    return user


def scope_invitation(user, invitation_id: int | None, now: datetime | None = None) -> Invitation | None:
    """The invitation a respondent's session is bound to, if it is still valid and theirs; else None."""
    if not invitation_id or getattr(user, "role", None) != "respondent":
        return None
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.contact.user_id != user.id:
        return None
    if check_link_state(invitation, now) is not None:
        return None
    return invitation


def check_link_state(invitation: Invitation, now: datetime | None = None) -> str | None:
    """None when the invitation still grants access, else the reason."""
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.is_expired(now or utcnow()):
        return "expired"
    if has_moved(invitation):
        return "moved"
    if not _asked(invitation.campaign_id, invitation.agency_id):
        return "inactive"  # the agency was taken out of the campaign
    if not invitation.contact.is_active or not invitation.agency.is_active or invitation.campaign.status == "draft":
        return "inactive"
    return None


#: Why a queued e-mail with a link is withdrawn instead of sent (English, stored as the message's last error;
#: app.mail.errors gives each in the interface language).
WITHDRAWN = {
    "revoked": "Not sent: its link was revoked.",
    "expired": "Not sent: its link has expired.",
    "moved": "Not sent: the contact has moved to another agency.",
    "not_asked": "Not sent: the campaign no longer asks this agency.",
    "inactive": "Not sent: the contact, the agency or the contact's account is no longer active.",
    "closed": "Not sent: the campaign is no longer open.",
    "submitted": "Not sent: the agency has submitted its answers.",
}


def unwanted_message(message_id: int) -> str | None:
    """Why a queued invitation, reminder or clarification e-mail should not go out any more (its link would open
    nothing, or a reminder has nothing left to remind of), or None; consulted by the outbox before sending."""
    from app.responses.models import Response

    invitation = db.session.scalar(select(Invitation).where(
        (Invitation.message_id == message_id) | (Invitation.reminder_message_id == message_id)))
    if invitation is None:
        return None
    state = check_link_state(invitation)
    if state == "inactive" and not _asked(invitation.campaign_id, invitation.agency_id):
        state = "not_asked"
    if state is None:
        account = _existing_account(invitation.contact)
        if account is not None and not account.is_active:
            state = "inactive"
    if state is None and invitation.reminder_message_id == message_id:
        if invitation.campaign.status != "open":
            state = "closed"
        elif db.session.scalar(select(Response.status).where(
                Response.campaign_id == invitation.campaign_id, Response.agency_id == invitation.agency_id)) \
                in ("submitted", "validated"):
            state = "submitted"
    return WITHDRAWN[state] if state else None


mail.register_wanted_check("campaign links", unwanted_message)


def agencies_by_ids(ids: Iterable[int]) -> list[Agency]:
    """Agencies for ids (unknown ids are ignored)."""
    ids = list(ids)
    if not ids:
        return []
    return list(db.session.scalars(select(Agency).where(Agency.id.in_(ids))))


def versions() -> list[QuestionnaireVersion]:
    """Every stored questionnaire version, newest first per questionnaire."""
    from app.questionnaires.models import Questionnaire

    query = select(QuestionnaireVersion).join(Questionnaire)
    return list(db.session.scalars(query.order_by(Questionnaire.slug, QuestionnaireVersion.number.desc())))


#: Invitation states in the order people care about them.
INVITATION_STATES = ("opened", "sent", "queued", "issued", "bounced", "failed", "expired", "revoked", "moved",
                     "inactive")


def contact_state(links: list[Invitation], now: datetime | None = None) -> str:
    """One word for a contact's links to a campaign (oldest first: the invitation, then each reminder's or
    clarification request's fresh link): the latest link's state, except that a contact who opened any of their
    links has "opened" while the latest link still works (a reminder's new link is often never clicked)."""
    now = now or utcnow()
    state = invitation_state(links[-1], now)
    if state in ("revoked", "expired", "moved", "inactive"):
        return state
    # a link opened before it was revoked says nothing about the links sent since
    opened = any(link.first_opened_at is not None and link.revoked_at is None for link in links)
    return "opened" if opened else state


@dataclass
class ContactLinks:
    """A contact's links to a campaign, as one row: the latest link (its actions and expiry), when the first
    was made, the reminders sent so far (over all their links: a link resent by hand starts at 0) and the
    contact's state (`contact_state`)."""

    links: list[Invitation]
    now: datetime

    @property
    def latest(self) -> Invitation:
        return self.links[-1]

    @property
    def first_sent_at(self) -> datetime:
        return self.links[0].created_at

    @property
    def reminders(self) -> int:
        return max(link.reminder_count or 0 for link in self.links)

    @property
    def state(self) -> str:
        return contact_state(self.links, self.now)


def contact_links(campaign: Campaign, now: datetime | None = None) -> list[ContactLinks]:
    """One row per contact (and agency) invited to the campaign, in the order they were first invited; each
    row's state is worked out when it is read (a page shows a hundred of thousands)."""
    groups: dict[tuple[int, int], list[Invitation]] = {}
    for invitation in invitations_of(campaign):
        groups.setdefault((invitation.agency_id, invitation.contact_id), []).append(invitation)
    now = now or utcnow()
    return [ContactLinks(links, now) for links in groups.values()]


def invitation_state(invitation: Invitation, now: datetime | None = None) -> str:
    """One word for an invitation: revoked, expired, moved (its contact now works for another agency), inactive
    (the contact or the agency is deactivated in the directory: the link opens nothing), opened, bounced, failed,
    sent, queued, or issued (a link handed over without e-mail)."""
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.is_expired(now or utcnow()):
        return "expired"
    if has_moved(invitation):
        return "moved"
    if not invitation.contact.is_active or not invitation.agency.is_active:
        return "inactive"
    if invitation.first_opened_at is not None:
        return "opened"
    message = invitation.message
    if message is None:
        return "issued"
    return {"sent": "sent", "bounced": "bounced", "failed": "failed"}.get(message.status, "queued")
