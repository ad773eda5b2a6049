"""Personal API tokens, and what a token's user may read, as scoped queries. Flush, never commit.

Scope is the same as on the pages (app.responses.services.may_see_agency, app.review.services):
staff and administrators read everything; an expert reads the countries assigned to them, their
agencies (never a regional body), those agencies' responses and the scores of those countries, the
campaigns that are not drafts and ask agencies of their countries (as on the campaigns page), and the
questionnaire versions used by campaigns or by the responses they may see. Respondents sign in with
magic links and get no tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select

from app.api.models import ApiToken
from app.api.tokens import hash_token, looks_like_token, new_token
from app.campaigns.models import Campaign, campaign_agencies
from app.campaigns.services import may_see_campaign, visible_campaigns_query
from app.core import audit
from app.core.models import utcnow
from app.directory.models import Agency, Country
from app.extensions import db
from app.i18n import _
from app.questionnaires.models import Questionnaire, QuestionnaireVersion
from app.questionnaires.rendering import visibility
from app.questionnaires.services import definition_of
from app.responses.models import Answer, Response
from app.responses.services import expert_country_ids
from app.scoring.models import CountryAreaScore, CountryScore

#: Roles that may hold tokens and read the API.
API_ROLES = ("admin", "staff", "expert")
#: Roles that read everything.
EVERYTHING = ("admin", "staff")
#: Active tokens a user may hold at once.
MAX_ACTIVE_TOKENS = 10
#: Expiry choices offered on the tokens page, in days (None: until revoked).
EXPIRY_DAYS = (30, 90, 365, None)
#: `last_used_at` is written at most this often per token, so reading the API is not a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token operation was refused; the message is shown to the person."""


# --- tokens ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    """A new token: the row, and the token itself, which is shown once and never stored."""

    token: ApiToken
    secret: str


def may_hold_tokens(user) -> bool:
    """Staff, administrators and experts; not respondents (they sign in by magic link)."""
    return getattr(user, "role", None) in API_ROLES and bool(getattr(user, "is_active", False))


def tokens_of(user) -> list[ApiToken]:
    """The user's tokens that are not revoked (active and expired), newest first."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def create_token(user, name: str, *, expires_in_days: int | None = None, now: datetime | None = None,
                 channel: str = "web") -> IssuedToken:
    """Create a token for `user` (who acts for themselves); the secret is in the result only."""
    now = now or utcnow()
    name = (name or "").strip()
    if not may_hold_tokens(user):
        raise TokenError(_("Only staff, administrators and experts can create API tokens."))
    if not name or len(name) > 100:
        raise TokenError(_("Give the token a name of at most 100 characters."))
    if expires_in_days not in EXPIRY_DAYS:
        raise TokenError(_("Choose one of the offered expiry periods."))
    active = [t for t in tokens_of(user) if t.state(now) == "active"]
    if len(active) >= MAX_ACTIVE_TOKENS:
        raise TokenError(_("You already have %(count)s active tokens: revoke one first.", count=MAX_ACTIVE_TOKENS))
    secret, token_hash = new_token()
    token = ApiToken(user_id=user.id, name=name, token_hash=token_hash, hint=secret[-4:], created_at=now,
                     expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None)
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.created", actor=user, object_type="api_token", object_id=token.id, channel=channel,
                 new={"name": name, "expires_at": token.expires_at.isoformat() if token.expires_at else None})
    return IssuedToken(token, secret)


def revoke_token(user, token_id: int, *, now: datetime | None = None, channel: str = "web") -> ApiToken:
    """Revoke one of the user's own tokens (TokenError when it is not theirs or already revoked)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise TokenError(_("There is no such token."))
    token.revoked_at = now or utcnow()
    audit.record("api_token.revoked", actor=user, object_type="api_token", object_id=token.id, channel=channel,
                 old={"name": token.name})
    db.session.flush()
    return token


@dataclass(frozen=True)
class Authentication:
    """The outcome of checking a bearer token: the token when valid, else why not."""

    token: ApiToken | None
    reason: str = ""  # "", "malformed", "unknown", "revoked", "expired", "inactive"


def authenticate(secret: str, now: datetime | None = None) -> Authentication:
    """Check a token; on success note when it was used (at most once per LAST_USED_RESOLUTION)."""
    now = now or utcnow()
    if not looks_like_token(secret):
        return Authentication(None, "malformed")
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if token is None:
        return Authentication(None, "unknown")
    state = token.state(now)
    if state != "active":
        return Authentication(None, state)
    if not token.user.is_active:
        return Authentication(None, "inactive")
    last = token.last_used_at
    if last is None or now - (last if last.tzinfo else last.replace(tzinfo=now.tzinfo)) >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.flush()
    return Authentication(token)


# --- pagination --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One page of a list, and the size of the whole list."""

    items: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Number of pages (0 for an empty list)."""
        return -(-self.total // self.per_page)


def paginate(statement: Select, page: int, per_page: int) -> Page:
    """Run `statement` (which must have a stable order) for one page, and count the whole list."""
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    items = list(db.session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items, total, page, per_page)


# --- scope -------------------------------------------------------------------------------------------------


def reads_everything(user) -> bool:
    """Staff and administrators."""
    return user.role in EVERYTHING


def _country_ids(user) -> set[int]:
    return expert_country_ids(user)


def campaigns_query(user, *, status: str | None = None) -> Select:
    """The campaigns the user may know of, as on the campaigns page (an expert: those that are not drafts and
    ask agencies of their countries), oldest first."""
    statement = visible_campaigns_query(user).order_by(Campaign.id)
    if status:
        statement = statement.where(Campaign.status == status)
    return statement


def visible_campaign(user, campaign_id: int) -> Campaign | None:
    """A campaign the user may see."""
    campaign = db.session.get(Campaign, campaign_id)
    return campaign if may_see_campaign(user, campaign) else None


def _visible_version_ids(user) -> Select | None:
    """Ids of the versions an expert may read (None: every version)."""
    if reads_everything(user):
        return None
    of_campaigns = visible_campaigns_query(user).with_only_columns(Campaign.version_id)
    of_responses = (select(Response.version_id).join(Agency, Agency.id == Response.agency_id)
                    .where(Agency.country_id.in_(_country_ids(user) or {-1})))
    return of_campaigns.union(of_responses)


def visible_versions(user, questionnaire: Questionnaire) -> list[QuestionnaireVersion]:
    """The versions of a questionnaire the user may read, by number."""
    statement = select(QuestionnaireVersion).where(QuestionnaireVersion.questionnaire_id == questionnaire.id)
    ids = _visible_version_ids(user)
    if ids is not None:
        statement = statement.where(QuestionnaireVersion.id.in_(ids))
    return list(db.session.scalars(statement.order_by(QuestionnaireVersion.number)))


def questionnaires_query(user) -> Select:
    """Questionnaires with at least one version the user may read, by slug."""
    statement = select(Questionnaire).order_by(Questionnaire.slug)
    ids = _visible_version_ids(user)
    if ids is not None:
        statement = statement.where(Questionnaire.id.in_(
            select(QuestionnaireVersion.questionnaire_id).where(QuestionnaireVersion.id.in_(ids))))
    return statement


def visible_questionnaire(user, slug: str) -> Questionnaire | None:
    """A questionnaire with at least one version the user may read."""
    return db.session.scalar(questionnaires_query(user).where(Questionnaire.slug == slug))


def visible_version(user, slug: str, number: int) -> QuestionnaireVersion | None:
    """Version `number` of questionnaire `slug`, if the user may read it."""
    statement = (select(QuestionnaireVersion).join(Questionnaire)
                 .where(Questionnaire.slug == slug, QuestionnaireVersion.number == number))
    ids = _visible_version_ids(user)
    if ids is not None:
        statement = statement.where(QuestionnaireVersion.id.in_(ids))
    return db.session.scalar(statement)


def countries_query(user) -> Select:
    """The countries the user may see, by code."""
    statement = select(Country).order_by(Country.code)
    if not reads_everything(user):
        statement = statement.where(Country.id.in_(_country_ids(user) or {-1}))
    return statement


def visible_country(user, code: str) -> Country | None:
    """A country the user may see, by its code (any case)."""
    return db.session.scalar(countries_query(user).where(Country.code == code.upper()))


def _country_id(code: str) -> int:
    return db.session.scalar(select(Country.id).where(Country.code == code.upper())) or -1


def agencies_query(user, *, country: str | None = None, kind: str | None = None, campaign_id: int | None = None,
                   active: bool | None = None) -> Select:
    """The agencies the user may see (an expert: those of their countries, no regional body), by id."""
    statement = select(Agency).order_by(Agency.id)
    if not reads_everything(user):
        statement = statement.where(Agency.country_id.in_(_country_ids(user) or {-1}))
    if country:
        statement = statement.where(Agency.country_id == _country_id(country))
    if kind:
        statement = statement.where(Agency.kind == kind)
    if campaign_id is not None:
        # only a campaign the user may know of (an expert's filter on a draft must not tell which agencies it asks)
        known = visible_campaigns_query(user).with_only_columns(Campaign.id).where(Campaign.id == campaign_id)
        statement = statement.where(Agency.id.in_(select(campaign_agencies.c.agency_id).where(
            campaign_agencies.c.campaign_id == campaign_id, campaign_agencies.c.campaign_id.in_(known))))
    if active is not None:
        statement = statement.where(Agency.is_active == active)
    return statement


def visible_agency(user, agency_id: int) -> Agency | None:
    """An agency the user may see."""
    return db.session.scalar(agencies_query(user).where(Agency.id == agency_id))


def responses_query(user, *, campaign_id: int | None = None, agency_id: int | None = None,
                    country: str | None = None, status: str | None = None) -> Select:
    """The responses the user may see (an expert: those of agencies in their countries), by id."""
    statement = select(Response).join(Agency, Agency.id == Response.agency_id).order_by(Response.id)
    if not reads_everything(user):
        statement = statement.where(Agency.country_id.in_(_country_ids(user) or {-1}),
                                    Response.campaign_id.in_(visible_campaigns_query(user).with_only_columns(
                                        Campaign.id)))
    if campaign_id is not None:
        statement = statement.where(Response.campaign_id == campaign_id)
    if agency_id is not None:
        statement = statement.where(Response.agency_id == agency_id)
    if country:
        statement = statement.where(Agency.country_id == _country_id(country))
    if status:
        statement = statement.where(Response.status == status)
    return statement


def visible_response(user, response_id: int) -> Response | None:
    """A response the user may see."""
    return db.session.scalar(responses_query(user).where(Response.id == response_id))


def followed_up(user, campaign: Campaign) -> int | None:
    """The id of the campaign `campaign` follows up, when `user` may know of it (an expert knows no campaign of
    other countries, nor a draft)."""
    return campaign.follow_up_of_id if may_see_campaign(user, campaign.follow_up_of) else None


def answers_of(response: Response) -> list[Answer]:
    """The answers of a response that count, by question id: those of questions skip logic hides (kept stored,
    as the form keeps them) are left out, as the pages, reports and exports leave them out."""
    stored = list(db.session.scalars(select(Answer).where(Answer.response_id == response.id)
                                     .order_by(Answer.question_id)))
    shown = visibility(definition_of(response.version), {a.question_id: a.value for a in stored})
    return [a for a in stored if a.question_id not in shown.hidden]


def indicator_scores_query(user, campaign: Campaign, *, country: str | None = None, indicator: str | None = None,
                           area: str | None = None) -> Select:
    """(score, country code) rows of a campaign for the countries the user may see, by country and indicator."""
    statement = (select(CountryScore, Country.code).join(Country, Country.id == CountryScore.country_id)
                 .where(CountryScore.campaign_id == campaign.id)
                 .order_by(Country.code, CountryScore.area_id, CountryScore.indicator_id))
    if not reads_everything(user):
        statement = statement.where(CountryScore.country_id.in_(_country_ids(user) or {-1}))
    if country:
        statement = statement.where(Country.code == country.upper())
    if indicator:
        statement = statement.where(CountryScore.indicator_id == indicator)
    if area:
        statement = statement.where(CountryScore.area_id == area)
    return statement


def area_scores_query(user, campaign: Campaign, *, country: str | None = None, area: str | None = None) -> Select:
    """(score, country code) rows of a campaign's area scores for the countries the user may see."""
    statement = (select(CountryAreaScore, Country.code).join(Country, Country.id == CountryAreaScore.country_id)
                 .where(CountryAreaScore.campaign_id == campaign.id)
                 .order_by(Country.code, CountryAreaScore.area_id))
    if not reads_everything(user):
        statement = statement.where(CountryAreaScore.country_id.in_(_country_ids(user) or {-1}))
    if country:
        statement = statement.where(Country.code == country.upper())
    if area:
        statement = statement.where(CountryAreaScore.area_id == area)
    return statement


def paginate_rows(statement: Select, page: int, per_page: int) -> Page:
    """Like `paginate`, for statements that select several columns (rows instead of objects)."""
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    rows = list(db.session.execute(statement.limit(per_page).offset((page - 1) * per_page)).all())
    return Page(rows, total, page, per_page)

