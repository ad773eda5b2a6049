"""Demo directory, campaign, invitations and responses; every step checks what exists, so seeding twice
changes nothing.

The demo's invitation e-mails are marked as sent (they go to reserved example domains and must never
reach an SMTP server by accident). Two demo contacts get links whose tokens are derived from SECRET_KEY,
so `flask demo accounts` can print them for trying the respondent's side; every other link is random.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from app.auth.models import User
from app.campaigns import services as campaigns
from app.campaigns.models import Campaign, Invitation
from app.campaigns.tokens import hash_token
from app.core.models import utcnow
from app.demo.directory_data import AGENCIES
from app.directory.models import Agency, Contact, Country
from app.extensions import db
from app.i18n import local_today
from app.questionnaires.services import definition_of, get_version
from app.responses.models import Answer, Response
from app.responses.services import refresh_progress

DEMO_CAMPAIGN = "Counter-terrorism capacity needs assessment 2026–2027"
DEMO_CAMPAIGN_RU = "Оценка потребностей в сфере противодействия терроризму, 2026–2027"
DEMO_QUESTIONNAIRE = "ct-capacity-needs-assessment"
#: Contacts whose demo links `flask demo accounts` prints: (e-mail, what it shows).
DEMO_LINK_CONTACTS = [
    ("a.nurlanov@mvd.kz.example", "KZ/MVD, in Russian, answers in progress"),
    ("liu.yang@ecrats.example", "RATS SCO (regional body), in English, not started"),
]
#: Status of each agency's response, by (country, acronym); agencies not listed have not started.
DEMO_STATUSES = {
    ("KZ", "MVD"): "in_progress", ("KZ", "GP"): "submitted", ("KZ", "AFM"): "validated", ("KZ", "KNB"): "returned",
    ("KG", "MVD"): "submitted", ("KG", "GSFR"): "in_progress", ("KG", "GKNB"): "validated",
    ("TJ", "MVD"): "in_progress", ("TJ", "DFM"): "submitted",
    ("UZ", "MVD"): "submitted", ("UZ", "GP"): "in_progress", ("UZ", "DBEP"): "validated", ("UZ", "SGB"): "returned",
    ("TM", "MVD"): "in_progress",
    # A few agencies have not started (the regional body neither); every other agency has submitted.
    ("KG", "MID"): "not_started", ("TM", "GPS"): "not_started", ("TJ", "TS"): "not_started",
}
#: Default status of the agencies not listed above (national agencies only).
DEMO_DEFAULT_STATUS = "submitted"
#: Where each country's answers lean per area (0 = lowest level, 1 = highest; other areas 0.4), so the
#: dashboards show countries strong in one area and weak in another.
DEMO_STRENGTHS = {
    "KZ": {"cft": 0.85, "investigation": 0.65, "border": 0.25},
    "KG": {"border": 0.75, "cft": 0.2, "rights_training": 0.55},
    "TJ": {"legal": 0.65, "investigation": 0.2, "cooperation": 0.3},
    "TM": {"cooperation": 0.1, "rights_training": 0.15, "legal": 0.55},
    "UZ": {"investigation": 0.75, "cooperation": 0.8, "cft": 0.3},
}
#: Expert ratings of the demo: (country, indicator, expert e-mail, level, rationale).
DEMO_RATINGS = [
    ("KZ", "inv_unit", "expert@example.org", 2,
     "The unit exists, but half of its posts were vacant at the time of the visit."),
    ("KZ", "inv_unit", "staff@example.org", 3,
     "Recruitment in 2026 filled most vacancies (letter of the Ministry, October 2026)."),
    ("KZ", "cft_str", "expert@example.org", 4, "Suspicious transaction reporting is automated and audited."),
    ("KG", "border_screening", "expert@example.org", 3, "API/PNR checks cover the two main airports."),
    ("KG", "cft_freezing", "expert@example.org", 1, "No freezing order was executed in the last two years."),
    ("UZ", "coop_interpol", "expert2@example.org", 4, "I-24/7 access extended to all regional police units."),
    ("TJ", "inv_digital", "expert2@example.org", 1, "No accredited digital forensics laboratory."),
    ("TM", "coop_regional", "expert2@example.org", 1, "Little participation in regional exercises."),
]
#: Invitations of these contacts end up in a special state, to show every state in the overview.
DEMO_INVITATION_STATES = {
    "m.orazova@border.tm.example": "bounced",
    "o.ovezova@prokuratura.tm.example": "queued",
    "r.mirzoev@khf.tj.example": "revoked",
    "s.odinaev@customs.tj.example": "expired",
}


def demo_token(email: str) -> str:
    """The demo link token of a contact: HMAC of the e-mail under SECRET_KEY (43 URL-safe characters)."""
    import base64

    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), f"demo-link:{email}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def seed_directory() -> list[str]:
    """Agencies and contacts of the demo directory (matched by country + acronym and by e-mail)."""
    report: list[str] = []
    countries = {c.code: c for c in db.session.scalars(select(Country))}
    for data in AGENCIES:
        country = countries.get(data["country"]) if data["country"] else None
        agency = db.session.scalar(select(Agency).where(Agency.acronym == data["acronym"],
                                                        Agency.country_id == (country.id if country else None)))
        if agency is None:
            agency = Agency(country=country, acronym=data["acronym"], kind=data["kind"], names=data["names"])
            db.session.add(agency)
            report.append(f"agency {data['country'] or '-'}/{data['acronym']} created")
        db.session.flush()
        for item in data["contacts"]:
            if db.session.scalar(select(Contact).where(Contact.email == item["email"])) is None:
                db.session.add(Contact(agency=agency, **item))
                report.append(f"contact {item['email']} created")
    db.session.flush()
    return report


def seed_campaign(today: date | None = None) -> list[str]:
    """The open demo campaign over every agency, with invitations and responses in every state."""
    if db.session.scalar(select(Campaign).where(Campaign.name == DEMO_CAMPAIGN)) is not None:
        return []
    version = get_version(DEMO_QUESTIONNAIRE)
    if version is None:
        return []
    today = today or local_today()
    agencies = list(db.session.scalars(select(Agency).where(Agency.is_active.is_(True))))
    campaign = campaigns.create_campaign(
        DEMO_CAMPAIGN, version, name_translations={"ru": DEMO_CAMPAIGN_RU}, agencies=agencies,
        opens_on=today - timedelta(days=30),
        deadline=today + timedelta(days=21), channel="cli",
        description="Demo campaign: the first round of the needs assessment in the five partner countries.",
        target_overrides={"KZ": {"cft_str": 4}, "TM": {"coop_interpol": 2}},
    )
    campaigns.set_status(campaign, "open", channel="cli")
    campaign.opened_at = utcnow() - timedelta(days=30)
    issued = campaigns.invite(campaign, channel="cli")
    _settle_invitations(issued)
    report = [f"campaign {DEMO_CAMPAIGN!r} opened with {len(agencies)} agencies, {len(issued)} invitations"]
    report.extend(_seed_responses(campaign, today))
    return report


def _settle_invitations(issued) -> None:
    """Give the demo invitations realistic states instead of leaving them queued."""
    now = utcnow()
    for number, item in enumerate(issued):
        invitation, message = item.invitation, item.invitation.message
        invitation.created_at = now - timedelta(days=28)
        state = DEMO_INVITATION_STATES.get(item.contact.email, "sent")
        if item.contact.email in dict(DEMO_LINK_CONTACTS):
            invitation.token_hash = hash_token(demo_token(item.contact.email))
        if state == "revoked":
            invitation.revoked_at = now - timedelta(days=3)
        elif state == "expired":
            invitation.expires_at = now - timedelta(days=1)
        if message is None:
            continue
        if state == "bounced":
            message.status, message.attempts = "bounced", 1
            message.last_error = "550 5.1.1 <m.orazova@border.tm.example>: Recipient address rejected: User unknown"
        elif state != "queued":
            message.status, message.attempts, message.sent_at = "sent", 1, now - timedelta(days=28)
        if state == "sent" and number % 3:
            invitation.first_opened_at = invitation.last_opened_at = now - timedelta(days=27 - number % 20)
            invitation.open_count = 1 + number % 4


def _seed_responses(campaign: Campaign, today: date) -> list[str]:
    from app.demo.answers import generate_answers

    definition = definition_of(campaign.version)
    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    now, report = utcnow(), []
    for agency in campaign.agencies:
        status = DEMO_STATUSES.get((agency.country_code, agency.acronym),
                                   DEMO_DEFAULT_STATUS if agency.country_code else None)
        if status in (None, "not_started"):
            continue
        contact = next((c for c in agency.contacts if c.is_focal_point), agency.contacts[0])
        user = campaigns.respondent_for(contact)
        completeness = 0.45 if status == "in_progress" else 1.0
        values = generate_answers(definition, rng, completeness=completeness, today=today,
                                  fixed=_profile(definition, agency),
                                  strengths=DEMO_STRENGTHS.get(agency.country_code or "", {}))
        response = Response(campaign_id=campaign.id, agency_id=agency.id, version_id=campaign.version_id,
                            status=status, started_at=now - timedelta(days=20), last_activity_at=now -
                            timedelta(days=rng.randint(0, 12), hours=rng.randint(0, 23)))
        db.session.add(response)
        db.session.flush()
        for question_id, value in values.items():
            db.session.add(Answer(response_id=response.id, question_id=question_id, value=value,
                                  updated_by_id=user.id, updated_at=response.last_activity_at))
        if status in ("submitted", "validated", "returned"):
            response.submitted_at, response.submitted_by_id = response.last_activity_at, user.id
            response.first_submitted_at = response.submitted_at
        if status == "returned":
            response.returned_at = now - timedelta(days=1)
        if status == "validated":
            response.validated_at = now - timedelta(days=2)
        db.session.flush()
        refresh_progress(response, today=today)
        if status == "returned":
            _demo_clarification(response, definition)
        report.append(f"response {agency.country_code}/{agency.acronym}: {status}")
    db.session.flush()
    report.extend(_seed_ratings(campaign))
    from app.scoring import store

    counts = store.rebuild(campaign.id, today=today)
    report.append(f"scores of {counts['responses']} responses and {counts['countries']} countries computed")
    return report


def _demo_clarification(response: Response, definition) -> None:
    """The expert's questions that sent a demo response back to its agency."""
    from app.review.models import Clarification

    email = "expert@example.org" if response.agency.country_code in ("KZ", "KG") else "expert2@example.org"
    expert = db.session.scalar(select(User).where(User.email == email))
    values = {a.question_id: a.value for a in response.answers}
    wanted = [("total_staff", "Does this figure include the regional offices? Please give both numbers."),
              ("has_ct_unit", "Please describe how the unit is organised and to whom it reports.")]
    for question_id, message in wanted:
        if definition.question(question_id) is None:
            continue
        db.session.add(Clarification(response_id=response.id, question_id=question_id, message=message,
                                     requested_by_id=expert.id if expert else None,
                                     value_before=values.get(question_id), requested_at=response.returned_at))


def _seed_ratings(campaign: Campaign) -> list[str]:
    from app.review.models import ExpertRating

    definition = definition_of(campaign.version)
    countries = {c.code: c for c in db.session.scalars(select(Country))}
    users = {u.email: u for u in db.session.scalars(select(User))}
    now, made = utcnow(), 0
    for number, (code, indicator, email, level, rationale) in enumerate(DEMO_RATINGS):
        if code not in countries or definition.indicator(indicator) is None or email not in users:
            continue
        db.session.add(ExpertRating(campaign_id=campaign.id, country_id=countries[code].id, indicator_id=indicator,
                                    expert_id=users[email].id, level=level, rationale=rationale,
                                    created_at=now - timedelta(days=len(DEMO_RATINGS) - number)))
        made += 1
    db.session.flush()
    return [f"{made} expert ratings"]


def _profile(definition, agency: Agency) -> dict:
    """Profile answers that match the directory (name, country, type), where the questionnaire asks them
    (the demo questionnaire's agency_type choices use the directory's codes)."""
    wanted = {"agency_name": agency.name(definition.languages[0]),
              "agency_country": (agency.country_code or "regional").lower(),
              "agency_type": agency.kind}
    return {key: value for key, value in wanted.items() if definition.question(key) is not None}


def demo_links() -> list[tuple[str, str, str]]:
    """(e-mail, description, link) of the demo contacts whose links are derived from SECRET_KEY."""
    out = []
    for email, what in DEMO_LINK_CONTACTS:
        invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash ==
                                                                hash_token(demo_token(email))))
        if invitation is not None and campaigns.is_valid(invitation):
            out.append((email, what, campaigns.link_for(demo_token(email))))
    return out
