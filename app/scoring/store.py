"""Keeping the materialized scores up to date (the database side of the pure engine).

- `refresh_response(response)`: the response's per-indicator scores (only submitted and validated responses
  count: an answer in progress, or returned to the agency, is not a finding yet; others have no rows).
- `refresh_country(campaign, country_id)`: the country's indicator and area figures from its agencies'
  response scores, the experts' ratings and the campaign's targets.
- `response_changed(response)`: both, called in the same transaction as submission, return and validation;
  `rating_changed(campaign, country_id)` after an expert rating.
- `rebuild(campaign_id=None)`: everything again from the answers (`flask scores rebuild`); gives exactly
  what the incremental updates gave.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import delete, select

from app.campaigns.models import Campaign
from app.core.models import utcnow
from app.directory.models import Agency, Country
from app.extensions import db
from app.questionnaires.services import definition_of
from app.responses.models import Answer, Response
from app.review.models import ExpertRating
from app.scoring import engine
from app.scoring.models import CountryAreaScore, CountryScore, ResponseScore

#: Responses whose answers count in the scores.
SCORED_STATUSES = ("submitted", "validated")


def _values(response_id: int) -> dict:
    return {a.question_id: a.value for a in db.session.scalars(select(Answer).where(Answer.response_id ==
                                                                                    response_id))}


def refresh_response(response: Response, today: date | None = None) -> None:
    """Replace the response's indicator scores (none unless it is submitted or validated)."""
    db.session.execute(delete(ResponseScore).where(ResponseScore.response_id == response.id))
    if response.status not in SCORED_STATUSES:
        return
    definition = definition_of(response.version)
    scores = engine.response_scores(definition, _values(response.id), today)
    for indicator_id, score in scores.items():
        db.session.add(ResponseScore(response_id=response.id, indicator_id=indicator_id, level=score.level,
                                     coverage=score.coverage, answered_weight=score.answered_weight,
                                     total_weight=score.total_weight))
    db.session.flush()


def _indicator_score(row: ResponseScore) -> engine.IndicatorScore:
    return engine.IndicatorScore(level=row.level, coverage=row.coverage, answered_weight=row.answered_weight,
                                 total_weight=row.total_weight)


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes (stored in UTC): make them comparable with aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def refresh_country(campaign: Campaign, country_id: int) -> None:
    """Recompute one country's indicator and area figures in one campaign."""
    country = db.session.get(Country, country_id)
    definition = definition_of(campaign.version)
    rows = db.session.execute(
        select(ResponseScore).join(Response, Response.id == ResponseScore.response_id)
        .join(Agency, Agency.id == Response.agency_id)
        .where(Response.campaign_id == campaign.id, Agency.country_id == country_id,
               Response.status.in_(SCORED_STATUSES))
        .order_by(ResponseScore.response_id)).scalars()
    by_response: dict[int, dict[str, engine.IndicatorScore]] = {}
    for row in rows:
        by_response.setdefault(row.response_id, {})[row.indicator_id] = _indicator_score(row)
    ratings: dict[str, list[engine.Rating]] = {}
    for rating in db.session.scalars(select(ExpertRating).where(
            ExpertRating.campaign_id == campaign.id, ExpertRating.country_id == country_id)
            .order_by(ExpertRating.created_at, ExpertRating.id)):
        ratings.setdefault(rating.indicator_id, []).append(
            engine.Rating(level=rating.level, at=_aware(rating.created_at), expert=rating.expert_id))
    targets = engine.country_targets(definition, campaign.target_overrides or {}, country.code)
    indicators = engine.country_scores(definition, list(by_response.values()), ratings, targets)
    areas = engine.country_area_scores(definition, indicators)
    area_of = {indicator.id: area.id for area, indicator in definition.indicators()}

    db.session.execute(delete(CountryScore).where(CountryScore.campaign_id == campaign.id,
                                                  CountryScore.country_id == country_id))
    db.session.execute(delete(CountryAreaScore).where(CountryAreaScore.campaign_id == campaign.id,
                                                      CountryAreaScore.country_id == country_id))
    now = utcnow()
    for indicator_id, figure in indicators.items():
        db.session.add(CountryScore(
            campaign_id=campaign.id, country_id=country_id, indicator_id=indicator_id, area_id=area_of[indicator_id],
            self_assessed=figure.self_assessed, expert=figure.expert, assessed=figure.assessed, target=figure.target,
            gap=figure.gap, priority=figure.priority, coverage=figure.coverage, agencies=figure.agencies,
            agencies_with_level=figure.agencies_with_level, ratings=figure.ratings,
            disagreement=figure.disagreement, updated_at=now))
    for area_id, figure in areas.items():
        db.session.add(CountryAreaScore(
            campaign_id=campaign.id, country_id=country_id, area_id=area_id, self_assessed=figure.self_assessed,
            expert=figure.expert, assessed=figure.assessed, target=figure.target, gap=figure.gap,
            coverage=figure.coverage, updated_at=now))
    db.session.flush()


def response_changed(response: Response, today: date | None = None) -> None:
    """After a submission, return or validation: the response's scores and its country's figures."""
    refresh_response(response, today)
    if response.agency.country_id is not None:
        refresh_country(response.campaign, response.agency.country_id)


def rating_changed(campaign: Campaign, country_id: int) -> None:
    """After an expert rating: the country's figures."""
    refresh_country(campaign, country_id)


def rebuild(campaign_id: int | None = None, today: date | None = None) -> dict[str, int]:
    """Recompute every score (of one campaign, or all) from the answers; returns counts for the report."""
    campaigns = [db.session.get(Campaign, campaign_id)] if campaign_id else list(
        db.session.scalars(select(Campaign).order_by(Campaign.id)))
    counts = {"campaigns": 0, "responses": 0, "countries": 0}
    for campaign in campaigns:
        if campaign is None:
            continue
        counts["campaigns"] += 1
        responses = list(db.session.scalars(select(Response).where(Response.campaign_id == campaign.id)
                                            .order_by(Response.id)))
        for response in responses:
            refresh_response(response, today)
            counts["responses"] += response.status in SCORED_STATUSES
        country_ids = sorted({a.country_id for a in campaign.agencies if a.country_id is not None}
                             | {r.agency.country_id for r in responses if r.agency.country_id is not None})
        for country_id in country_ids:
            refresh_country(campaign, country_id)
        counts["countries"] += len(country_ids)
    return counts
