"""The read-only JSON API at /api/v1/: one blueprint, authenticated by personal API tokens (Bearer).

Each view: authenticate the token (`token_required`), let spectree validate the query, read through the
scoped queries of app.api.services, and return a pydantic envelope. No session cookie and no CSRF token
are involved; nothing here writes except a token's `last_used_at`.
"""

from __future__ import annotations

import re
from functools import wraps

from flask import Blueprint, current_app, g, render_template, request, url_for
from flask_limiter.util import get_remote_address

from app.api import errors, schemas, services
from app.api.errors import ApiError
from app.api.schemas import (
    AgencyQuery,
    AreaScoreQuery,
    CampaignQuery,
    NoQuery,
    PageQuery,
    ResponseQuery,
    ScoreQuery,
)
from app.api.spec import PUBLIC, public_responses, responses, spec
from app.api.tokens import hash_token
from app.extensions import csrf, db, limiter
from app.i18n import _l, gettext
from app.review.services import experts_disagree

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # read-only, and authenticated by a header a browser never sends on its own
errors.register(bp)

#: Roles whose tokens may read the API.
READERS = services.API_ROLES
#: An id in a path: a positive 32-bit integer (larger numbers answer 404 instead of reaching the database).
ID = f"int(min=1, max={schemas.MAX_ID})"
#: The shape of a questionnaire slug (anything else answers 404 without a query).
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
DEFAULT_RATE_LIMIT = "300 per minute"
DEFAULT_FAILURE_LIMIT = "30 per minute"


# --- rate limits -------------------------------------------------------------------------------------------


def _bearer() -> str:
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def _token_key() -> str:
    """Requests are counted per token (by its hash), or per address without one."""
    secret = _bearer()
    return "api-token:" + hash_token(secret) if secret else "api-address:" + (get_remote_address() or "")


def _authentication() -> services.Authentication | None:
    """The outcome of checking this request's token (None without one), computed once per request."""
    if "api_authentication" not in g:
        secret = _bearer()
        g.api_authentication = services.authenticate(secret) if secret else None
    return g.api_authentication


def _has_valid_token() -> bool:
    outcome = _authentication()
    return outcome is not None and outcome.token is not None


#: Every request counts against its token's budget (or its address's, without a token)...
limiter.shared_limit(lambda: current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT), scope="api",
                     key_func=_token_key)(bp)
#: ...and refused credentials (401) count against the address, whose requests without a valid token are then
#: refused for a while; a valid token is never held back by others' failures from the same address.
limiter.shared_limit(lambda: current_app.config.get("API_FAILURE_LIMIT", DEFAULT_FAILURE_LIMIT),
                     scope="api-failures", key_func=get_remote_address, exempt_when=_has_valid_token,
                     deduct_when=lambda response: response.status_code == 401)(bp)


# --- authentication ----------------------------------------------------------------------------------------

_REASONS = {
    "malformed": _l("The token is not one of ours."),
    "unknown": _l("The token is not known: it may have been mistyped or deleted."),
    "revoked": _l("The token has been revoked."),
    "expired": _l("The token has expired: create a new one on your account page."),
    "inactive": _l("The account of this token is deactivated."),
}


def _unauthorized(code: str, message) -> ApiError:
    challenge = 'Bearer realm="api"' if code == "unauthorized" else f'Bearer realm="api", error="{code}"'
    return ApiError(401, code, message, headers={"WWW-Authenticate": challenge})


def token_required(*roles: str):
    """Allow the view to requests with a valid token of a user with one of `roles` (else 401 or 403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            outcome = _authentication()
            if outcome is None:
                raise _unauthorized("unauthorized", _l("Send a personal API token: Authorization: Bearer <token>."))
            if outcome.token is None:
                raise _unauthorized("invalid_token", _REASONS.get(outcome.reason) or _l("The token is not valid."))
            user = outcome.token.user
            g.api_token, g.api_user = outcome.token, user
            db.session.commit()  # `last_used_at`; also ends the transaction before the reads
            if user.role not in roles:
                raise ApiError(403, "forbidden", _l("Only staff, administrators and experts may use the API."))
            return view(*args, **kwargs)

        wrapped.required_roles = roles
        wrapped.authentication = "bearer"
        return wrapped

    return decorator


@bp.after_request
def no_caching(response):
    """Answers read with a token are personal: no shared cache may keep them."""
    if g.get("api_user") is not None:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def public(view):
    """A page of the API anyone may read (the document and its reference)."""
    view.authentication = None
    return view


# --- envelopes ---------------------------------------------------------------------------------------------


def _query_args(query: PageQuery) -> dict[str, str]:
    args = {}
    for name, value in query.model_dump(exclude_none=True, exclude={"page", "per_page"}).items():
        args[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return args


def _links(page: services.Page, query: PageQuery) -> schemas.PageLinks:
    args = {**(request.view_args or {}), **_query_args(query), "per_page": page.per_page}

    def link(number: int) -> str:
        return url_for(request.endpoint, page=number, **args)

    last = max(page.pages, 1)
    return schemas.PageLinks(
        self=link(page.page), first=link(1), last=link(last),
        next=link(page.page + 1) if page.page < page.pages else None,
        previous=link(min(page.page - 1, last)) if page.page > 1 else None,
    )


def _page(model, page: services.Page, query: PageQuery, items: list):
    meta = schemas.PageMeta(page=page.page, per_page=page.per_page, total=page.total, pages=page.pages)
    return model(data=items, meta=meta, links=_links(page, query))


#: The 404 message of each kind of object (whole sentences, so each translates with its own grammar).
_NOT_FOUND = {
    "campaign": _l("There is no such campaign, or you may not see it."),
    "questionnaire": _l("There is no such questionnaire, or you may not see it."),
    "questionnaire version": _l("There is no such questionnaire version, or you may not see it."),
    "country": _l("There is no such country, or you may not see it."),
    "agency": _l("There is no such agency, or you may not see it."),
    "response": _l("There is no such response, or you may not see it."),
}


def _not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", _NOT_FOUND[what])


def _version_ref(version) -> schemas.VersionRef:
    return schemas.VersionRef(slug=version.questionnaire.slug, number=version.number)


def _campaign(campaign) -> schemas.Campaign:
    return schemas.Campaign(
        id=campaign.id, name=campaign.name, name_translations=dict(campaign.name_translations or {}),
        description=(campaign.description or "") if g.api_user.role in ("staff", "admin") else None,
        status=campaign.status,
        questionnaire=_version_ref(campaign.version), opens_on=campaign.opens_on, deadline=campaign.deadline,
        follow_up_of=services.followed_up(g.api_user, campaign),
        created_at=campaign.created_at, opened_at=campaign.opened_at,
        closed_at=campaign.closed_at,
    )


def _version_summary(version) -> schemas.VersionSummary:
    return schemas.VersionSummary(number=version.number, title=version.title or {},
                                  content_hash=version.content_hash, created_at=version.created_at)


def _questionnaire(user, questionnaire) -> schemas.Questionnaire:
    return schemas.Questionnaire(slug=questionnaire.slug, versions=[
        _version_summary(v) for v in services.visible_versions(user, questionnaire)])


def _country(country) -> schemas.Country:
    return schemas.Country(id=country.id, code=country.code, names=country.names or {})


def _agency(agency) -> schemas.Agency:
    return schemas.Agency(id=agency.id, country=agency.country.code if agency.country else None,
                          acronym=agency.acronym, kind=agency.kind, names=agency.names or {},
                          is_active=agency.is_active)


def _response_fields(response) -> dict:
    return {
        "id": response.id, "campaign_id": response.campaign_id, "agency_id": response.agency_id,
        "country": response.agency.country.code if response.agency.country else None, "status": response.status,
        "questionnaire": _version_ref(response.version), "created_at": response.created_at,
        "started_at": response.started_at, "last_activity_at": response.last_activity_at,
        "submitted_at": response.submitted_at, "first_submitted_at": response.first_submitted_at,
        "returned_at": response.returned_at,
        "validated_at": response.validated_at, "required_total": response.required_total,
        "required_answered": response.required_answered, "percent_required": response.percent_required,
    }


def _campaign_or_404(campaign_id: int):
    found = services.visible_campaign(g.api_user, campaign_id)
    if found is None:
        raise _not_found("campaign")
    return found


def _is_slug(value: str) -> bool:
    return bool(SLUG.fullmatch(value))


def _is_country_code(value: str) -> bool:
    return len(value) == 2 and value.isascii() and value.isalpha()


# --- the caller --------------------------------------------------------------------------------------------


@bp.get("/me")
@token_required(*READERS)
@spec.validate(query=NoQuery, resp=responses(schemas.MeEnvelope), tags=["Account"])
def me():
    """The token's user and scope

    Who the token belongs to, their role and, for an expert, the countries they may see.
    """
    user, token = g.api_user, g.api_token
    return schemas.MeEnvelope(data=schemas.Me(
        id=user.id, email=user.email, name=user.name or "", role=user.role,
        countries=None if services.reads_everything(user) else user.country_codes,
        token=schemas.TokenInfo(name=token.name, created_at=token.created_at, expires_at=token.expires_at),
    ))


# --- campaigns and questionnaires --------------------------------------------------------------------------


@bp.get("/campaigns")
@token_required(*READERS)
@spec.validate(query=CampaignQuery, resp=responses(schemas.CampaignPage), tags=["Campaigns"])
def campaigns(query: CampaignQuery):
    """List campaigns

    The campaigns the token's user may know of, as on the campaigns page (an expert: those that are not
    drafts and ask agencies of their countries), oldest first.
    """
    page = services.paginate(services.campaigns_query(g.api_user, status=query.status), query.page, query.per_page)
    return _page(schemas.CampaignPage, page, query, [_campaign(c) for c in page.items])


@bp.get(f"/campaigns/<{ID}:campaign_id>")
@token_required(*READERS)
@spec.validate(query=NoQuery, resp=responses(schemas.CampaignEnvelope), tags=["Campaigns"])
def campaign(campaign_id: int):
    """One campaign"""
    return schemas.CampaignEnvelope(data=_campaign(_campaign_or_404(campaign_id)))


@bp.get("/questionnaires")
@token_required(*READERS)
@spec.validate(query=PageQuery, resp=responses(schemas.QuestionnairePage), tags=["Questionnaires"])
def questionnaires(query: PageQuery):
    """List questionnaires and their versions

    An expert sees the versions used by campaigns or by the responses they may see.
    """
    user = g.api_user
    page = services.paginate(services.questionnaires_query(user), query.page, query.per_page)
    return _page(schemas.QuestionnairePage, page, query, [_questionnaire(user, q) for q in page.items])


@bp.get("/questionnaires/<slug>")
@token_required(*READERS)
@spec.validate(query=NoQuery, resp=responses(schemas.QuestionnaireEnvelope), tags=["Questionnaires"])
def questionnaire(slug: str):
    """One questionnaire and its versions"""
    found = services.visible_questionnaire(g.api_user, slug) if _is_slug(slug) else None
    if found is None:
        raise _not_found("questionnaire")
    return schemas.QuestionnaireEnvelope(data=_questionnaire(g.api_user, found))


@bp.get(f"/questionnaires/<slug>/versions/<{ID}:number>")
@token_required(*READERS)
@spec.validate(query=NoQuery, resp=responses(schemas.QuestionnaireVersionEnvelope), tags=["Questionnaires"])
def questionnaire_version(slug: str, number: int):
    """One questionnaire version with its definition

    The definition is the frozen, canonical form of the questionnaire file (questions, choices, scores,
    skip logic, areas and indicators with their targets): see questionnaires/README.md for the format.
    """
    version = services.visible_version(g.api_user, slug, number) if _is_slug(slug) else None
    if version is None:
        raise _not_found("questionnaire version")
    summary = _version_summary(version).model_dump(mode="json")
    # The stored canonical definition as it is (defaults omitted); spectree checks it against the schema.
    return {"data": {**summary, "slug": version.questionnaire.slug, "definition": version.definition}}


# --- directory ---------------------------------------------------------------------------------------------


@bp.get("/countries")
@token_required(*READERS)
@spec.validate(query=PageQuery, resp=responses(schemas.CountryPage), tags=["Directory"])
def countries(query: PageQuery):
    """List countries

    Staff see every country; an expert the countries assigned to them.
    """
    page = services.paginate(services.countries_query(g.api_user), query.page, query.per_page)
    return _page(schemas.CountryPage, page, query, [_country(c) for c in page.items])


@bp.get("/countries/<code>")
@token_required(*READERS)
@spec.validate(query=NoQuery, resp=responses(schemas.CountryEnvelope), tags=["Directory"])
def country(code: str):
    """One country, by its ISO code"""
    found = services.visible_country(g.api_user, code) if _is_country_code(code) else None
    if found is None:
        raise _not_found("country")
    return schemas.CountryEnvelope(data=_country(found))


@bp.get("/agencies")
@token_required(*READERS)
@spec.validate(query=AgencyQuery, resp=responses(schemas.AgencyPage), tags=["Directory"])
def agencies(query: AgencyQuery):
    """List agencies

    Staff see every agency, regional bodies included (country null); an expert the agencies of their
    countries. Filters: country, kind, campaign_id (the agencies a campaign asks), active.
    """
    statement = services.agencies_query(g.api_user, country=query.country, kind=query.kind,
                                        campaign_id=query.campaign_id, active=query.active)
    page = services.paginate(statement, query.page, query.per_page)
    return _page(schemas.AgencyPage, page, query, [_agency(a) for a in page.items])


@bp.get(f"/agencies/<{ID}:agency_id>")
@token_required(*READERS)
@spec.validate(query=NoQuery, resp=responses(schemas.AgencyEnvelope), tags=["Directory"])
def agency(agency_id: int):
    """One agency"""
    found = services.visible_agency(g.api_user, agency_id)
    if found is None:
        raise _not_found("agency")
    return schemas.AgencyEnvelope(data=_agency(found))


# --- responses ---------------------------------------------------------------------------------------------


@bp.get("/responses")
@token_required(*READERS)
@spec.validate(query=ResponseQuery, resp=responses(schemas.ResponsePage), tags=["Responses"])
def responses_list(query: ResponseQuery):
    """List responses (without their answers)

    Staff see every response; an expert those of agencies in their countries.
    Filters: campaign_id, agency_id, country, status.
    """
    statement = services.responses_query(g.api_user, campaign_id=query.campaign_id, agency_id=query.agency_id,
                                         country=query.country, status=query.status)
    page = services.paginate(statement, query.page, query.per_page)
    return _page(schemas.ResponsePage, page, query, [schemas.Response(**_response_fields(r)) for r in page.items])


@bp.get(f"/responses/<{ID}:response_id>")
@token_required(*READERS)
@spec.validate(query=NoQuery, resp=responses(schemas.ResponseEnvelope), tags=["Responses"])
def response(response_id: int):
    """One response with its answers

    Each answer's value is as normalised by its question type (see the questionnaire version). Answers to
    questions that skip logic hides under the other answers are left out, as in the exports.
    """
    found = services.visible_response(g.api_user, response_id)
    if found is None:
        raise _not_found("response")
    answers = [schemas.Answer(question_id=a.question_id, value=a.value, version=a.version, updated_at=a.updated_at)
               for a in services.answers_of(found)]
    return schemas.ResponseEnvelope(data=schemas.ResponseWithAnswers(**_response_fields(found), answers=answers))


# --- scores ------------------------------------------------------------------------------------------------


@bp.get(f"/campaigns/<{ID}:campaign_id>/scores")
@token_required(*READERS)
@spec.validate(query=ScoreQuery, resp=responses(schemas.IndicatorScorePage), tags=["Scores"])
def indicator_scores(campaign_id: int, query: ScoreQuery):
    """Scores per country and indicator

    The materialized scores of a campaign, one per country and indicator, for the countries the caller may
    see, ordered by country, area and indicator. Filters: country, indicator, area.
    """
    found = _campaign_or_404(campaign_id)
    statement = services.indicator_scores_query(g.api_user, found, country=query.country,
                                                indicator=query.indicator, area=query.area)
    page = services.paginate_rows(statement, query.page, query.per_page)
    split = experts_disagree(found.id, {s.country_id for s, _code in page.items if s.ratings > 1})
    items = [schemas.IndicatorScore(
        campaign_id=s.campaign_id, country=code, indicator_id=s.indicator_id, area_id=s.area_id,
        self_assessed=s.self_assessed, expert=s.expert, assessed=s.assessed, target=s.target, gap=s.gap,
        priority=s.priority, coverage=s.coverage, agencies=s.agencies, agencies_with_level=s.agencies_with_level,
        ratings=s.ratings, disagreement=s.disagreement, experts_disagree=(s.country_id, s.indicator_id) in split,
        updated_at=s.updated_at) for s, code in page.items]
    return _page(schemas.IndicatorScorePage, page, query, items)


@bp.get(f"/campaigns/<{ID}:campaign_id>/area-scores")
@token_required(*READERS)
@spec.validate(query=AreaScoreQuery, resp=responses(schemas.AreaScorePage), tags=["Scores"])
def area_scores(campaign_id: int, query: AreaScoreQuery):
    """Scores per country and thematic area

    The roll-up of each area's indicators, for the countries the caller may see. Filters: country, area.
    """
    found = _campaign_or_404(campaign_id)
    statement = services.area_scores_query(g.api_user, found, country=query.country, area=query.area)
    page = services.paginate_rows(statement, query.page, query.per_page)
    items = [schemas.AreaScore(
        campaign_id=s.campaign_id, country=code, area_id=s.area_id, self_assessed=s.self_assessed,
        expert=s.expert, assessed=s.assessed, target=s.target, gap=s.gap, coverage=s.coverage,
        updated_at=s.updated_at) for s, code in page.items]
    return _page(schemas.AreaScorePage, page, query, items)


# --- the document and its reference page ---------------------------------------------------------------------


@bp.get("/openapi.json")
@public
@spec.validate(resp=public_responses(), tags=["Reference"], security=PUBLIC)
def openapi():
    """This OpenAPI document

    Generated from the code: the routes, their docstrings and the pydantic models.
    """
    return spec.spec


@bp.get("/docs")
@public
@spec.validate(resp=public_responses(), tags=["Reference"], security=PUBLIC)
def docs():
    """The reference page (HTML)

    This document, rendered as a page for people.
    """
    from app.api.reference import reference
    from app.api.reference_texts import section_name

    return render_template("api/docs.html", ref=reference(spec.spec, gettext, section_name))
