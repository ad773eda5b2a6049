"""Expert review: scope, comments, clarification requests, validation and unlocking, expert ratings.

Scope is enforced here, not in the views: every function that takes an actor refuses (ReviewError with
`not_found`) what the actor may not see, so a view answers 404 without telling whether it exists.
Every action is written to the audit log and keeps the materialized scores up to date.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from app.campaigns.models import Campaign, campaign_agencies
from app.campaigns.services import campaign_countries, lock_campaign
from app.core import audit
from app.core.models import utcnow
from app.directory.models import Agency, Country
from app.extensions import db
from app.i18n import _, get_locale_code, local_today
from app.questionnaires.forms import tr
from app.questionnaires.rendering import visibility
from app.questionnaires.services import definition_of
from app.responses.models import Response
from app.responses.services import expert_country_ids, may_see_agency
from app.review.models import Clarification, Comment, ExpertRating
from app.scoring import store

REVIEWERS = ("staff", "admin", "expert")


class ReviewError(ValueError):
    """A review action was refused; `not_found` when the object is outside the actor's scope, `read_only` when
    the agency's answers can no longer be changed (submitted, validated or the campaign closed)."""

    def __init__(self, message: str, *, not_found: bool = False, read_only: bool = False):
        super().__init__(message)
        self.not_found = not_found
        self.read_only = read_only


# --- scope ---------------------------------------------------------------------------------------------


def may_review_country(actor, country: Country | None) -> bool:
    """Staff see every country; an expert only the assigned ones."""
    role = getattr(actor, "role", None)
    if role in ("staff", "admin"):
        return True
    return role == "expert" and country is not None and country.id in expert_country_ids(actor)


def reviewable_response(actor, response_id: int) -> Response:
    """The response if the actor may review it; else ReviewError(not_found)."""
    response = db.session.get(Response, response_id)
    if (response is None or getattr(actor, "role", None) not in REVIEWERS
            or not may_see_agency(actor, response.agency, campaign_id=response.campaign_id)):
        raise ReviewError("not found", not_found=True)
    return response


def reviewable_country(actor, code: str) -> Country:
    """A country the actor may review; else ReviewError(not_found)."""
    country = db.session.scalar(select(Country).where(Country.code == (code or "").upper()))
    if country is None or not may_review_country(actor, country):
        raise ReviewError("not found", not_found=True)
    return country


def visible_countries(actor, campaign: Campaign) -> list[Country]:
    """Countries of the campaign's agencies that the actor may review, in the alphabetical order of their names in
    the reader's language (by code, Kyrgyzstan (KG) came before Kazakhstan (KZ))."""
    locale = get_locale_code()
    return sorted((c for c in campaign_countries(campaign) if may_review_country(actor, c)),
                  key=lambda c: c.name(locale).casefold())


def status_counts(campaign: Campaign) -> dict[int, tuple[Counter, int]]:
    """{country id: (responses per status, agencies asked)} of a campaign, in two grouped queries; agencies
    asked that have no response count as "not_started". Only agencies asked count, as on the progress pages: the
    response of one taken out of the campaign (which can only be one opened and never answered) does not."""
    asked = dict(db.session.execute(
        select(Agency.country_id, func.count()).join(campaign_agencies, campaign_agencies.c.agency_id == Agency.id)
        .where(campaign_agencies.c.campaign_id == campaign.id, Agency.country_id.is_not(None))
        .group_by(Agency.country_id)).all())
    statuses: dict[int, Counter] = {}
    for country_id, status, count in db.session.execute(
            select(Agency.country_id, Response.status, func.count()).join(Agency, Agency.id == Response.agency_id)
            .join(campaign_agencies, _asked_by(campaign))
            .where(Response.campaign_id == campaign.id, Agency.country_id.is_not(None))
            .group_by(Agency.country_id, Response.status)):
        statuses.setdefault(country_id, Counter())[status] = count
    out = {}
    for country_id in asked.keys() | statuses.keys():
        counts = statuses.get(country_id, Counter())
        agencies = asked.get(country_id, 0)
        counts["not_started"] += max(0, agencies - sum(counts.values()))
        out[country_id] = (counts, agencies)
    return out


def answers_to(responses: list[Response], question_ids: set[str]) -> dict[int, dict[str, Any]]:
    """{response id: {question id: stored value}} of these responses' answers to these questions only, in one
    query (the compare view needs one question and what its skip logic reads, not every answer)."""
    from app.responses.models import Answer

    out: dict[int, dict[str, Any]] = {response.id: {} for response in responses}
    if responses and question_ids:
        for response_id, question_id, value in db.session.execute(
                select(Answer.response_id, Answer.question_id, Answer.value).where(
                    Answer.response_id.in_(list(out)), Answer.question_id.in_(sorted(question_ids)))):
            out[response_id][question_id] = value
    return out


def country_responses(campaign: Campaign, country: Country) -> list[Response]:
    """The responses of a country's agencies in a campaign."""
    return list(db.session.scalars(select(Response).join(Agency, Agency.id == Response.agency_id).where(
        Response.campaign_id == campaign.id, Agency.country_id == country.id).order_by(Agency.acronym)))


def regional_bodies(actor, campaign: Campaign) -> list:
    """The campaign's agencies without a country (regional bodies) the actor may review: staff only, as an
    expert's scope is their countries."""
    if getattr(actor, "role", None) not in ("staff", "admin"):
        return []
    return sorted((a for a in campaign.agencies if a.country_id is None), key=lambda a: a.acronym)


def regional_responses(campaign: Campaign) -> list[Response]:
    """The responses of the regional bodies (agencies without a country) the campaign asks."""
    return list(db.session.scalars(select(Response).join(Agency, Agency.id == Response.agency_id)
                                   .join(campaign_agencies, _asked_by(campaign)).where(
        Response.campaign_id == campaign.id, Agency.country_id.is_(None))))


def _asked_by(campaign: Campaign):
    """Join condition of a response to the campaign's agencies: only the responses of agencies it still asks."""
    return (campaign_agencies.c.agency_id == Response.agency_id) & (campaign_agencies.c.campaign_id == campaign.id)


# --- comments ------------------------------------------------------------------------------------------


#: Longest comment, clarification reply and rating rationale, in characters (the boxes' maxlength too).
TEXT_LIMIT = 10000
#: Longest evidence of an expert rating, in characters.
EVIDENCE_LIMIT = 5000
#: Longest message of a clarification request, in characters (each goes into the agency's e-mail).
MESSAGE_LIMIT = 5000
#: Longest reason for unlocking a validated response, in characters (kept whole in the audit log).
REASON_LIMIT = 2000


#: Direction overrides and isolates (U+202A-U+202E, U+2066-U+2069): pasted or planted, they make a text show
#: in another order than it is stored ("Bcc: x@evil" reversed in a reply, an e-mail subject, a report).
_DIRECTION_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def typed(text: str | None) -> str:
    """A text from a form's box, as its length is counted there: line breaks as one character (a browser sends
    them as two, CR LF, which the length note and the limit count as one), direction overrides removed, ends
    trimmed."""
    return (text or "").replace("\r\n", "\n").translate(_DIRECTION_CONTROLS).strip()


def _question(response: Response, question_id: str):
    definition = definition_of(response.version)
    question = definition.question(question_id)
    if question is None or question.type == "note":
        raise ReviewError("unknown question", not_found=True)
    return question


def add_comment(response: Response, question_id: str, body: str, *, actor, parent_id: int | None = None) -> Comment:
    """An internal comment on a question (a reply when `parent_id` names a comment of the same response)."""
    _question(response, question_id)
    body = typed(body)
    if not body:
        raise ReviewError(_("Write a comment first."))
    if len(body) > TEXT_LIMIT:
        raise ReviewError(_("The comment is too long (at most 10,000 characters)."))
    if parent_id is not None:
        parent = db.session.get(Comment, parent_id)
        if parent is None or parent.response_id != response.id:
            raise ReviewError("unknown comment", not_found=True)
        question_id = parent.question_id
    comment = Comment(response_id=response.id, question_id=question_id, parent_id=parent_id,
                      author_id=getattr(actor, "id", None), body=body)
    db.session.add(comment)
    db.session.flush()
    audit.record("comment.added", actor=actor, object_type="response", object_id=response.id,
                 new={"question": question_id, "comment": comment.id}, details=question_id)
    return comment


def comments_by_question(response: Response) -> dict[str, list[tuple[Comment, int]]]:
    """{question id: [(comment, depth)]} in thread order (each reply under its parent)."""
    comments = list(db.session.scalars(select(Comment).where(Comment.response_id == response.id)
                                       .order_by(Comment.created_at, Comment.id)))
    children: dict[int | None, list[Comment]] = {}
    for comment in comments:
        children.setdefault(comment.parent_id, []).append(comment)
    out: dict[str, list[tuple[Comment, int]]] = {}

    def walk(comment: Comment, depth: int) -> None:
        out.setdefault(comment.question_id, []).append((comment, depth))
        for child in children.get(comment.id, []):
            walk(child, depth + 1)

    for root in children.get(None, []):
        walk(root, 0)
    return out


# --- clarification requests ----------------------------------------------------------------------------


def _locked(response: Response, seen_version: int | None = None) -> Response:
    """The response under its row lock, so that two reviewers (or a reviewer and the agency) acting on it at once
    go one after the other and the second sees the first's outcome; with `seen_version` (the row version the
    reviewer's page showed), refused when the response changed since (answers resubmitted, returned...)."""
    from app.responses.answering import _lock

    locked = _lock(response)
    if seen_version is not None and locked.row_version != seen_version:
        raise ReviewError(_("The response has changed since you opened the page: look at it again before acting."))
    return locked


def closed_campaign_refusal() -> str:
    """Why a response of a closed campaign is not returned for clarification."""
    return _("The campaign is closed: the agency could not answer, so the response cannot be returned. Open the "
             "campaign again first.")


def inactive_agency_refusal(agency) -> str:
    """Why a response of an agency deactivated in the directory is not returned for clarification."""
    return _("%(agency)s is deactivated in the directory: it gets no e-mail and its contacts cannot open their "
             "links, so the response cannot be returned. Staff can reactivate the agency first.",
             agency=agency.acronym)


def message_too_long() -> str:
    """Why a clarification request with a message over MESSAGE_LIMIT is refused."""
    return _("A message to the agency is too long (at most 5,000 characters): shorten it. Nothing was sent.")


def request_clarification(response: Response, items: list[tuple[str, str]], *, actor,
                          channel: str = "web", seen_version: int | None = None) -> list[Clarification]:
    """Ask the agency to clarify these questions [(question id, message)]: the response goes back to the agency
    (`returned`), an e-mail with a fresh link goes to each active contact, the scores drop the response until
    it is submitted again."""
    response = _locked(response, seen_version)
    if response.status != "submitted":
        raise ReviewError(_("Only a submitted response can be returned for clarification."))
    lock_campaign(response.campaign_id)
    db.session.refresh(response.campaign, ["status"])  # as it is now: a colleague may have closed it meanwhile
    if response.campaign.status != "open":
        raise ReviewError(closed_campaign_refusal())
    db.session.refresh(response.agency, ["is_active"])  # staff may have deactivated it meanwhile
    if not response.agency.is_active:  # it could never answer: the response would stay returned for good
        raise ReviewError(inactive_agency_refusal(response.agency))
    first: dict[str, str] = {}
    for qid, message in items:  # a question named twice is asked once, with its first message
        first.setdefault(qid, typed(message))
    items = list(first.items())
    if not items:
        raise ReviewError(_("Choose at least one question to clarify."))
    if any(not message for _qid, message in items):
        raise ReviewError(_("Write a message for each question to clarify."))
    if any(len(message) > MESSAGE_LIMIT for _qid, message in items):  # refused rather than cut: the page keeps it
        raise ReviewError(message_too_long())
    values = {a.question_id: a.value for a in response.answers}
    definition = definition_of(response.version)
    shown = visibility(definition, values)
    created = []
    asked_at = utcnow()  # one moment for the whole round: the requests of a round are listed together
    for qid, message in items:
        question = _question(response, qid)
        if not shown.shown(question):  # the agency would be asked about a question its form does not show
            label = tr(question.label, definition.language_for(get_locale_code()), definition.languages[0])
            raise ReviewError(_("“%(question)s” does not apply to this agency (its other answers hide it): it "
                                "cannot be asked to clarify it.", question=label))
        clarification = Clarification(response_id=response.id, question_id=qid, message=message,
                                      requested_by_id=getattr(actor, "id", None), value_before=values.get(qid),
                                      requested_at=asked_at)
        db.session.add(clarification)
        created.append(clarification)
    old = response.status
    response.status = "returned"
    response.returned_at = asked_at
    response.last_activity_at = response.returned_at
    db.session.flush()
    audit.record("response.returned", actor=actor, object_type="response", object_id=response.id, channel=channel,
                 old={"status": old}, new={"status": "returned", "questions": [qid for qid, _m in items]})
    _notify_contacts(response, created, actor=actor, channel=channel)
    store.response_changed(response)
    return created


def reachable_contacts(agency) -> list:
    """The contacts an e-mail to the agency goes to: the active ones of an active agency."""
    return [contact for contact in agency.contacts if contact.is_active] if agency.is_active else []


def _notify_contacts(response: Response, clarifications: list[Clarification], *, actor, channel: str) -> None:
    from app.campaigns import services as campaigns
    from app.mail import services as mail

    campaign, agency = response.campaign, response.agency
    definition = definition_of(response.version)
    # a deadline already passed is no date to answer by (returns often come after it)
    deadline = campaign.deadline if campaign.deadline and campaign.deadline >= local_today() else None
    for contact in reachable_contacts(agency):
        issued = campaigns._issue(campaign, agency, contact, actor=actor, send_email=False, channel=channel)
        lang = definition.language_for(contact.locale)
        questions = [(tr(definition.question(c.question_id).label, lang, definition.languages[0]), c.message)
                     for c in clarifications]
        message = mail.queue("clarification", to=contact.email, to_name=contact.name, locale=contact.locale,
                             template="clarification", actor=actor, context={
                                 "link": issued.link,
                                 "agency_name": agency.name(contact.locale), "campaign": campaign,
                                 "questionnaire_title": tr(definition.title, lang, definition.languages[0]),
                                 "questions": questions, "deadline": deadline})
        issued.invitation.message_id = message.id
        mail.send_soon(message)


def open_clarifications(response: Response) -> list[Clarification]:
    """Requests the agency has not answered by resubmitting yet, oldest first."""
    return list(db.session.scalars(select(Clarification).where(
        Clarification.response_id == response.id, Clarification.closed_at.is_(None))
        .order_by(Clarification.requested_at, Clarification.id)))


def all_clarifications(response: Response) -> list[Clarification]:
    """Every request of a response: the newest round first, each round's questions in the questionnaire's order
    (as the agency sees them; the same round came in reverse order)."""
    requests = list(db.session.scalars(select(Clarification).where(Clarification.response_id == response.id)))
    order = {q.id: n for n, (_section, q) in enumerate(definition_of(response.version).questions())}
    requests.sort(key=lambda c: (order.get(c.question_id, len(order)), c.id))
    requests.sort(key=lambda c: c.requested_at, reverse=True)  # stable: each round keeps the questionnaire's order
    return requests


def reply_to_clarification(response: Response, clarification_id: int, text: str, *, actor) -> Clarification:
    """The agency's written reply to one open request of its own response."""
    from app.responses.answering import _lock_editable
    from app.responses.services import ResponseError

    try:  # under the response's lock, as it is now: a resubmission or the campaign's closing meanwhile wins
        response = _lock_editable(response)
    except ResponseError:
        raise ReviewError(_("Your answers can no longer be changed."), read_only=True) from None
    clarification = db.session.get(Clarification, clarification_id)
    if clarification is not None:
        db.session.refresh(clarification)
    if clarification is None or clarification.response_id != response.id or clarification.closed_at is not None:
        raise ReviewError("not found", not_found=True)
    text = typed(text)
    if len(text) > TEXT_LIMIT:
        raise ReviewError(_("The reply is too long (at most 10,000 characters)."))
    old = clarification.reply
    clarification.reply = text
    clarification.replied_at = utcnow()
    db.session.flush()
    audit.record("clarification.replied", actor=actor, object_type="response", object_id=response.id,
                 old={"reply": old}, new={"reply": text}, details=clarification.question_id)
    return clarification


def close_clarifications(response: Response) -> None:
    """On resubmission: every open request is answered; the answer after is kept beside the one before."""
    # the answers that count: one that no longer applies (hidden by the agency's other answers) is empty now
    values = visibility(definition_of(response.version), {a.question_id: a.value for a in response.answers}).values
    now = utcnow()
    for clarification in open_clarifications(response):
        clarification.closed_at = now
        clarification.value_after = values.get(clarification.question_id)
    db.session.flush()


# --- validation ----------------------------------------------------------------------------------------


def validate(response: Response, *, actor, seen_version: int | None = None) -> Response:
    """Accept a submitted response: it becomes locked (no clarification, no change) until staff unlock it."""
    response = _locked(response, seen_version)
    if response.status != "submitted":
        raise ReviewError(_("Only a submitted response can be validated."))
    response.status = "validated"
    response.validated_at = utcnow()
    response.validated_by_id = getattr(actor, "id", None)
    db.session.flush()
    audit.record("response.validated", actor=actor, object_type="response", object_id=response.id,
                 old={"status": "submitted"}, new={"status": "validated"})
    store.response_changed(response)
    return response


def unlock(response: Response, reason: str, *, actor, seen_version: int | None = None) -> Response:
    """Staff only: a validated response back to `submitted` (open to review again), with a reason."""
    if getattr(actor, "role", None) not in ("staff", "admin"):
        raise ReviewError(_("Only staff can unlock a validated response."))
    response = _locked(response, seen_version)
    if response.status != "validated":
        raise ReviewError(_("Only a validated response can be unlocked."))
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError(_("Give the reason for unlocking."))
    if len(typed(reason)) > REASON_LIMIT:  # refused rather than cut: the page keeps it
        raise ReviewError(_("The reason is too long (at most 2,000 characters): shorten it."))
    response.status = "submitted"
    response.validated_at = None
    response.validated_by_id = None
    db.session.flush()
    audit.record("response.unlocked", actor=actor, object_type="response", object_id=response.id,
                 old={"status": "validated"}, new={"status": "submitted"}, details=typed(reason))
    store.response_changed(response)
    return response


def last_unlock(response: Response):
    """The audit entry of the latest unlocking of the response (who, when, why), or None."""
    from app.core.models import AuditEvent

    return db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "response.unlocked", AuditEvent.object_type == "response",
        AuditEvent.object_id == str(response.id)).order_by(AuditEvent.id.desc()).limit(1))


# --- expert ratings ------------------------------------------------------------------------------------


def add_rating(campaign: Campaign, country: Country, indicator_id: str, level: Any, rationale: str, *, actor,
               evidence: str = "") -> ExpertRating:
    """An expert's (or staff member's) level for one indicator of one country, with a rationale."""
    if not may_review_country(actor, country):
        raise ReviewError("not found", not_found=True)
    definition = definition_of(campaign.version)
    if definition.indicator(indicator_id) is None:
        raise ReviewError("not found", not_found=True)
    try:
        level = float(str(level).replace(",", "."))
    except ValueError:
        raise ReviewError(_("Choose a level.")) from None
    if level not in {float(step.level) for step in definition.scale}:  # the levels the form offers
        raise ReviewError(_("Choose a level of the scale."))
    rationale = typed(rationale)
    evidence = typed(evidence)
    if not rationale:
        raise ReviewError(_("Give the reasons for the rating."))
    if len(rationale) > TEXT_LIMIT:  # refused rather than cut: the page keeps the text to shorten
        raise ReviewError(_("The rationale is too long (at most 10,000 characters)."))
    if len(evidence) > EVIDENCE_LIMIT:
        raise ReviewError(_("The evidence is too long (at most 5,000 characters)."))
    # The campaign's lock before the row: the row holds a share lock on the campaign's row, and two ratings that
    # each held one while asking for the lock (to refresh the figures) waited for each other on PostgreSQL.
    lock_campaign(campaign.id)
    rating = ExpertRating(campaign_id=campaign.id, country_id=country.id, indicator_id=indicator_id,
                          expert_id=getattr(actor, "id", None), level=level, rationale=rationale, evidence=evidence)
    db.session.add(rating)
    db.session.flush()
    audit.record("rating.added", actor=actor, object_type="campaign", object_id=campaign.id,
                 new={"country": country.code, "indicator": indicator_id, "level": level, "rating": rating.id},
                 details=rationale[:2000])
    store.rating_changed(campaign, country.id)
    return rating


def ratings_of(campaign: Campaign, country: Country) -> dict[str, list[ExpertRating]]:
    """{indicator id: ratings newest first} of one country in one campaign."""
    out: dict[str, list[ExpertRating]] = {}
    for rating in db.session.scalars(select(ExpertRating).where(
            ExpertRating.campaign_id == campaign.id, ExpertRating.country_id == country.id)
            .order_by(ExpertRating.created_at.desc(), ExpertRating.id.desc())):
        out.setdefault(rating.indicator_id, []).append(rating)
    return out


@dataclass
class Disagreement:
    """Two or more experts whose latest ratings of one indicator differ."""

    indicator_id: str
    levels: dict[str, float]


def experts_disagree(campaign_id: int, country_ids: set[int]) -> set[tuple[int, str]]:
    """(country id, indicator id) of a campaign's countries whose experts' latest ratings of an indicator differ
    (each expert's latest rating counts once, as on the review page)."""
    latest: dict[tuple[int, str], dict[int | None, float]] = {}
    for country_id, indicator_id, expert_id, level in db.session.execute(
            select(ExpertRating.country_id, ExpertRating.indicator_id, ExpertRating.expert_id, ExpertRating.level)
            .where(ExpertRating.campaign_id == campaign_id, ExpertRating.country_id.in_(country_ids or [-1]))
            .order_by(ExpertRating.created_at.desc(), ExpertRating.id.desc())):
        latest.setdefault((country_id, indicator_id), {}).setdefault(expert_id, level)
    return {key for key, levels in latest.items() if len(set(levels.values())) > 1}


def disagreements(ratings: dict[str, list[ExpertRating]]) -> dict[str, Disagreement]:
    """Indicators whose experts' latest ratings differ."""
    out = {}
    for indicator_id, items in ratings.items():
        latest: dict[int | None, tuple] = {}  # per expert account (two experts may share a name), newest first
        for rating in items:
            latest.setdefault(rating.expert_id, (rating.expert, rating.level))
        if len({level for _expert, level in latest.values()}) < 2:
            continue
        names = [expert.name or expert.email if expert else "?" for expert, _level in latest.values()]
        shown = {}
        for name, (expert, level) in zip(names, latest.values(), strict=True):
            if names.count(name) > 1 and expert is not None and expert.name:
                name = f"{expert.name} ({expert.email})"  # the same name twice: told apart by the address
            shown[name] = level
        out[indicator_id] = Disagreement(indicator_id, shown)
    return out
